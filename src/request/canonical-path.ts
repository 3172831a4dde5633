/**
 * One spelling per path: the form the gateway matches, forwards and signs. Origins route on their own
 * decoding of the path (Flask and Go decode every escape, Express folds case, Tomcat drops `;` parameters,
 * nginx merges slashes), so a path the gateway judged as spelled could run a stronger route's handler. This
 * stage removes every difference it can without changing what the path means, and refuses what stacks read
 * differently:
 *
 *   - an escape of a character with no special meaning in a path is decoded (`%61` -> `a`, RFC 3986 6.2.2.2,
 *     and every other printable ASCII a decoding stack would read as itself); the escapes that stay (of `/`,
 *     `;`, `%`, non-ASCII and the characters URLs must escape) have upper-case hex (6.2.2.1);
 *   - dot segments are resolved (6.2.2.3), encoded ones too;
 *   - refused: an encoded `\`, NUL or control character, an encoded `%` (stacks that decode twice), a bad
 *     escape, invalid UTF-8, an empty segment (`//`), and, unless the route allows them, an encoded `/` and
 *     `;` parameters. The last two come back as ambiguities with the other readings of the path, so the
 *     route table can check that every reading lands on a route that opted in.
 *
 * Case and the trailing slash are not changed here: they are readings the route table weighs (route-table.ts).
 */

export type PathAmbiguity = 'encoded_slash' | 'semicolon';

export type CanonicalPath =
  | {
      ok: true;
      /** The canonical path: what is matched, forwarded and signed. */
      path: string;
      /** Ambiguities a route must allow (empty for nearly every request). */
      ambiguities: readonly PathAmbiguity[];
      /** The other ways mainstream stacks read `path` when it has ambiguities: each must land on the same kind of route. */
      readings: readonly string[];
    }
  | { ok: false; reason: string };

/** Printable ASCII that stays escaped once decoded: path delimiters, `%`, and what URLs must escape in a path. */
const KEEP_ESCAPED = new Set([...' "#%/;<>?[\\]^`{|}'].map((c) => c.charCodeAt(0)));
/** A path that is canonical as it stands (no escapes, no `;`, no empty or dot segments): the common case, one test. */
const PLAIN_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9\-._~!$&'()*+,=:@]+)*\/?$/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const hexDigit = (code: number) => (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
const hex = (byte: number) => `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;

type Segment = { ok: true; text: string; slash: boolean; semicolon: boolean } | { ok: false; reason: string };

/** One segment (between two `/`): escapes decoded or normalized, refused where stacks disagree. */
function canonicalSegment(raw: string): Segment {
  let text = '';
  let slash = false;
  let semicolon = false;
  for (let i = 0; i < raw.length; ) {
    const code = raw.charCodeAt(i);
    if (code !== 0x25) {
      if (code < 0x20 || code === 0x7f) return { ok: false, reason: 'control character' };
      if (code === 0x5c) return { ok: false, reason: 'backslash' };
      if (code === 0x3b) semicolon = true;
      if (code < 0x80) {
        text += raw[i];
        i++;
        continue;
      }
      // Non-ASCII as written (a policy pattern; URL parsers escape it in requests): escaped, as requests arrive.
      const char = String.fromCodePoint(raw.codePointAt(i)!);
      // A lone surrogate has no UTF-8 form.
      if (char.length === 1 && code >= 0xd800 && code <= 0xdfff) return { ok: false, reason: 'invalid UTF-8' };
      if (/[\u0080-\u009f\u2028\u2029]/.test(char)) return { ok: false, reason: 'control character' };
      text += encodeURIComponent(char);
      i += char.length;
      continue;
    }
    // A run of escapes: decoded as bytes, so a multi-byte UTF-8 character is judged whole.
    const bytes: number[] = [];
    while (i < raw.length && raw.charCodeAt(i) === 0x25) {
      if (i + 2 >= raw.length) return { ok: false, reason: 'bad percent-escape' };
      const high = raw.charCodeAt(i + 1);
      const low = raw.charCodeAt(i + 2);
      if (!hexDigit(high) || !hexDigit(low)) return { ok: false, reason: 'bad percent-escape' };
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 3;
    }
    for (let b = 0; b < bytes.length; ) {
      const byte = bytes[b]!;
      if (byte < 0x80) {
        if (byte < 0x20 || byte === 0x7f) return { ok: false, reason: byte === 0 ? 'encoded NUL' : 'encoded control character' };
        if (byte === 0x5c) return { ok: false, reason: 'encoded backslash' };
        if (byte === 0x25) return { ok: false, reason: 'encoded "%" (read twice by stacks that decode twice)' };
        if (byte === 0x2f) slash = true;
        // Stacks disagree on whether `;` starts a parameter before or after decoding: an escaped one is one too.
        if (byte === 0x3b) semicolon = true;
        text += KEEP_ESCAPED.has(byte) ? hex(byte) : String.fromCharCode(byte);
        b++;
        continue;
      }
      // Non-ASCII: the bytes of whole UTF-8 characters, kept escaped; invalid or overlong UTF-8 is refused.
      let end = b;
      while (end < bytes.length && bytes[end]! >= 0x80) end++;
      let decoded: string;
      try {
        decoded = utf8.decode(new Uint8Array(bytes.slice(b, end)));
      } catch {
        return { ok: false, reason: 'invalid UTF-8' };
      }
      if (/[\u0080-\u009f\u2028\u2029]/.test(decoded)) return { ok: false, reason: 'encoded control character' };
      for (let k = b; k < end; k++) text += hex(bytes[k]!);
      b = end;
    }
  }
  return { ok: true, text, slash, semicolon };
}

/** Tomcat and Spring drop `;param` from each segment before routing: that reading of a canonical path. */
const withoutParameters = (path: string) => path.replace(/(?:;|%3B)[^/]*/g, '');
/** Stacks that decode `%2F` before routing read it as a separator: that reading of a canonical path. */
const slashesDecoded = (path: string) => path.replace(/%2F/g, '/');

/** No empty segment but a trailing one, no dot segment. */
function isCleanReading(path: string): boolean {
  const segments = path.split('/');
  return segments.every((s, i) => s !== '.' && s !== '..' && (s !== '' || i === 0 || i === segments.length - 1));
}

export function canonicalPath(pathname: string): CanonicalPath {
  if (!pathname.startsWith('/')) return { ok: false, reason: 'path does not start with "/"' };
  if (PLAIN_PATH.test(pathname)) return { ok: true, path: pathname, ambiguities: [], readings: [] };
  const raw = pathname.split('/');
  const out: string[] = [];
  let slash = false;
  let semicolon = false;
  for (let i = 1; i < raw.length; i++) {
    const last = i === raw.length - 1;
    const segment = canonicalSegment(raw[i]!);
    if (!segment.ok) return segment;
    slash ||= segment.slash;
    semicolon ||= segment.semicolon;
    // Dot segments, spelled or escaped (RFC 3986 5.2.4); a "/" after them is kept, as URL parsers do.
    if (segment.text === '.' || segment.text === '..') {
      if (segment.text === '..') out.pop();
      if (last) out.push('');
      continue;
    }
    if (segment.text === '' && !last) return { ok: false, reason: 'empty path segment ("//")' };
    out.push(segment.text);
  }
  const path = `/${out.join('/')}`;
  const ambiguities: PathAmbiguity[] = [];
  const readings = new Set<string>();
  if (slash) ambiguities.push('encoded_slash');
  if (semicolon) ambiguities.push('semicolon');
  if (ambiguities.length > 0) {
    // Every other reading must itself be a clean path: `..%2F` or an empty segment after decoding is refused.
    for (const reading of [slashesDecoded(path), withoutParameters(path), withoutParameters(slashesDecoded(path))]) {
      if (reading === path) continue;
      if (!isCleanReading(reading)) return { ok: false, reason: 'dot or empty segment in another reading of the path' };
      readings.add(reading);
    }
  }
  return { ok: true, path, ambiguities, readings: [...readings] };
}

/** Escapes of non-ASCII bytes: the UTF-8 of the letters the full-Unicode fold below reads. */
const NON_ASCII_ESCAPES = /(?:%[89A-F][0-9A-F])+/g;

/**
 * How case-insensitive stacks (Express's default, ASP.NET Core, IIS) read a canonical path: letters folded,
 * escapes of `/`, `;`, `%` kept as they are. ASP.NET Core folds non-ASCII letters too (`CAFÉ` is `café`), so
 * escaped UTF-8 is decoded, folded and escaped again. The fold (upper, then lower case) is coarser than any
 * one stack's: it merges σ and ς, K and the Kelvin sign. Coarser is safe, since every reading the gateway
 * weighs only adds a route to the strictest-of choice; patterns are folded the same way.
 */
export function foldCase(path: string): string {
  const ascii = /[A-Z]/.test(path) ? asciiFold(path) : path;
  if (!/%[89A-F]/.test(ascii)) return ascii;
  return ascii.replace(NON_ASCII_ESCAPES, (escaped) => encodeURIComponent(decodeURIComponent(escaped).toUpperCase().toLowerCase()));
}

/** ASCII letters to lower case, the hex digits of escapes kept. */
function asciiFold(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '%') {
      out += path.slice(i, i + 3);
      i += 2;
    } else out += path[i]!.toLowerCase();
  }
  return out;
}
