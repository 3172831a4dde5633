/**
 * The shape gate: the only code that reads a token before its signature is checked. Small, strict and
 * bounded, so that anything odd is refused before jose, key lookup or any network I/O.
 */
import { JUDGED_HEADERS_MAX_ENTRIES, MAX_HEADER_BYTES, MAX_KID_LENGTH, MAX_TOKEN_BYTES } from '../config/constants.ts';
import { finding, type Finding } from '../findings.ts';
import { ALPHABET_CHECKED, base64UrlToBytes, decodedLength, decodeBase64UrlInto, isBase64UrlText } from './base64url.ts';
import { strictJsonProblemOf } from './strict-json.ts';

export interface JoseHeader {
  alg: string;
  typ?: string;
  kid?: string;
}

export interface ParsedToken {
  /** The JWS Signing Input (RFC 7515): the ASCII bytes of the header and payload segments with the dot between them. */
  signingInput: Uint8Array;
  signature: Uint8Array;
  header: JoseHeader;
  /** Unverified until the signature check passes; only `iss` is read before that, to choose the issuer. */
  payload: Record<string, unknown>;
}

/**
 * Header parameters a JWT access token may carry. Everything else is refused: crit/b64 change how the
 * signature is computed, jwk/jku/x5u/x5c try to choose the key, enc/zip/cty mean JWE or nested tokens.
 * x5t and x5t#S256 are thumbprints some issuers (Entra ID) send beside kid; they are never used to pick a key.
 */
const ALLOWED_HEADER_PARAMETERS = new Set(['alg', 'typ', 'kid', 'x5t', 'x5t#S256']);

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ascii = new TextEncoder();

export type ShapeResult = { ok: true; token: ParsedToken } | { ok: false; finding: Finding };

const malformed = (detail: string): { ok: false; finding: Finding } => ({ ok: false, finding: finding('token_malformed', { detail }) });

/** Base64url -> fatal UTF-8 -> JSON object without duplicate names or deep nesting, or why not. */
function decodeJsonObject(segment: string): Record<string, unknown> | string {
  const bytes = base64UrlToBytes(segment, ALPHABET_CHECKED);
  if (bytes === null) return 'not canonical base64url';
  return parseJsonObject(bytes);
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return 'not UTF-8';
  }
  // A BOM would be ignored by some parsers and not others: refuse it rather than decide.
  if (text.charCodeAt(0) === 0xfeff) return 'byte order mark';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  // JSON.parse keeps the last of two equal names; another reader may keep the first: refuse both.
  const problem = strictJsonProblemOf(text, value);
  if (problem !== null) return problem;
  return value as Record<string, unknown>;
}

/** The header rules, on the decoded header: the parsed header, or why it is refused. */
function judgeHeader(segment: string): JoseHeader | string {
  const header = decodeJsonObject(segment);
  if (typeof header === 'string') return `header: ${header}`;
  for (const name of Object.keys(header)) {
    if (!ALLOWED_HEADER_PARAMETERS.has(name)) return `header parameter "${name.slice(0, 32)}" is not accepted`;
  }
  if (typeof header.alg !== 'string' || header.alg.length === 0) return 'header: alg is not a string';
  if (header.typ !== undefined && typeof header.typ !== 'string') return 'header: typ is not a string';
  if (header.kid !== undefined) {
    if (typeof header.kid !== 'string' || header.kid.length > MAX_KID_LENGTH || !VISIBLE_ASCII.test(header.kid)) {
      return 'header: kid is not a short printable string';
    }
  }
  // Thumbprints are base64url text (RFC 7515 4.1.7-8); never used, but never anything else either, so the
  // frozen header holds only strings.
  for (const name of ['x5t', 'x5t#S256']) {
    const value = header[name];
    if (value !== undefined && !isBase64UrlText(value)) return `header: ${name} is not base64url text`;
  }
  return Object.freeze(header) as unknown as JoseHeader;
}

/**
 * Headers already judged, by their exact segment text. An issuer signs every token with one of a few
 * headers ({"alg","kid","typ"}), so nearly every token's header is judged once per isolate and then
 * looked up. The judgment is a pure function of the text, the accepted headers are frozen (every token
 * with that header shares the object), and the map is bounded: once full it is cleared, costing one
 * more judgment per header.
 */
const judgedHeaders = new Map<string, JoseHeader | string>();

function headerOf(segment: string): JoseHeader | string {
  // Checked before the map, so no key in it is longer than a header may be.
  if (segment.length > Math.ceil((MAX_HEADER_BYTES * 4) / 3)) return 'header too large';
  let judged = judgedHeaders.get(segment);
  if (judged === undefined) {
    judged = judgeHeader(segment);
    if (judgedHeaders.size >= JUDGED_HEADERS_MAX_ENTRIES) judgedHeaders.clear();
    judgedHeaders.set(segment, judged);
  }
  return judged;
}

/** A compact JWS that passed the JWS half of the gate: the payload is canonical base64url, not yet read as JSON. */
export interface ParsedJws extends Omit<ParsedToken, 'payload'> {
  payloadBytes: Uint8Array;
}

export type JwsShapeResult = { ok: true; jws: ParsedJws } | { ok: false; finding: Finding };

/**
 * Every rule of the gate that concerns the JWS (RFC 7515) rather than the JWT inside it: size, three
 * segments, canonical base64url, the header. Exported so the public JWS test vectors, whose payloads are
 * not JWT claim sets, go through the same code as tokens do.
 */
export function parseJwsShape(raw: string): JwsShapeResult {
  const parsed = parseSegments(raw);
  return typeof parsed === 'string' ? malformed(parsed) : { ok: true, jws: parsed };
}

/** Exactly three non-empty segments of the base64url alphabet, checked in one pass over the token. */
export const THREE_SEGMENTS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Size, three segments, the base64url alphabet, the header, and the bytes: the signature and the payload
 * (each canonical base64url) and the signing input, or why not. The three are views of one buffer made for
 * this token alone: one allocation instead of three (each a backing store the runtime allocates and a
 * collector thread frees), and nothing else ever writes to it, so what is verified is what was decoded.
 */
function parseSegments(raw: string): ParsedJws | string {
  if (raw.length > MAX_TOKEN_BYTES) return 'token too large';
  const firstDot = raw.indexOf('.');
  const secondDot = firstDot === -1 ? -1 : raw.indexOf('.', firstDot + 1);
  if (secondDot === -1 || raw.indexOf('.', secondDot + 1) !== -1) {
    return raw.split('.').length === 5 ? 'JWE (5 segments) is not accepted' : 'not three segments';
  }
  if (!THREE_SEGMENTS.test(raw)) return 'empty segment or character outside base64url';
  const header = headerOf(raw.slice(0, firstDot));
  if (typeof header === 'string') return header;
  const signatureText = raw.slice(secondDot + 1);
  const payloadText = raw.slice(firstDot + 1, secondDot);
  const signatureLength = decodedLength(signatureText.length);
  const payloadAt = signatureLength + secondDot;
  const bytes = new Uint8Array(payloadAt + decodedLength(payloadText.length));
  // The alphabet was checked above: the decoder need not check it again.
  const signature = bytes.subarray(0, signatureLength);
  if (!decodeBase64UrlInto(signatureText, signature, ALPHABET_CHECKED)) return 'signature: not canonical base64url';
  // The signing input is the token's own text, which the pattern above proved ASCII: a byte a character.
  const signingInput = bytes.subarray(signatureLength, payloadAt);
  ascii.encodeInto(raw.slice(0, secondDot), signingInput);
  const payloadBytes = bytes.subarray(payloadAt);
  if (!decodeBase64UrlInto(payloadText, payloadBytes, ALPHABET_CHECKED)) return 'payload: not canonical base64url';
  return { signingInput, signature, header, payloadBytes };
}

/** The whole gate: a JWS whose payload is a JWT claim set (a JSON object, strictly parsed). */
export function parseTokenShape(raw: string): ShapeResult {
  const parsed = parseSegments(raw);
  if (typeof parsed === 'string') return malformed(parsed);
  const payload = parseJsonObject(parsed.payloadBytes);
  if (typeof payload === 'string') return malformed(`payload: ${payload}`);
  // Built field by field: object rest/spread here cost more than the rest of the gate's bookkeeping.
  return { ok: true, token: { signingInput: parsed.signingInput, signature: parsed.signature, header: parsed.header, payload } };
}
