/**
 * A urlencoded form body can carry what the gateway refuses in the query: a second credential
 * (`access_token`, RFC 6750 2.2) and a method override (`_method`, which Rails, Laravel and Symfony read from
 * a POST form). Such a body is small by nature: it is read (at most MAX_FORM_SCAN_BYTES) and checked, then
 * forwarded as read. Every other body streams through unread. Multipart bodies are not read (they are
 * uploads, of any size): SECURITY.md tells origins to turn method overrides off.
 */
import { MAX_FORM_SCAN_BYTES } from '../config/constants.ts';
import { finding, type Finding } from '../findings.ts';
import { readCapped } from '../lib/read-capped.ts';
import { refusedParameter } from './canonical.ts';

export type FormCheck = { ok: true; body: Uint8Array | null } | { ok: false; finding: Finding };

const isUrlencoded = (headers: Headers) => /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i.test(headers.get('content-type') ?? '');

const UNREAD: FormCheck = Object.freeze({ ok: true, body: null });

/** body null: nothing was read, the request's own body streams on. Synchronous for every other body: no await per request. */
export function checkFormBody(request: Request): FormCheck | Promise<FormCheck> {
  if (request.body === null || request.method === 'GET' || request.method === 'HEAD' || !isUrlencoded(request.headers)) return UNREAD;
  return readForm(request, request.body);
}

async function readForm(request: Request, stream: ReadableStream<Uint8Array>): Promise<FormCheck> {
  const bytes = await readCapped(stream, request.headers, MAX_FORM_SCAN_BYTES);
  if (bytes === null) return tooLarge();
  const parameter = refusedParameter(`?${new TextDecoder().decode(bytes)}`);
  if (parameter !== null) return { ok: false, finding: finding('request_invalid', { detail: `form parameter ${JSON.stringify(parameter)} is refused on every route` }) };
  // The bytes as read, not the decoded text: the origin gets exactly what the client sent.
  return { ok: true, body: bytes };
}

const tooLarge = (): FormCheck => ({ ok: false, finding: finding('request_invalid', { detail: `urlencoded form body over ${MAX_FORM_SCAN_BYTES} bytes: it cannot be checked for a second credential or a method override` }) });
