import { describe, expect, it } from 'vitest';
import { JUDGED_HEADERS_MAX_ENTRIES, MAX_TOKEN_BYTES } from '../../../src/config/constants.ts';
import { base64UrlEncode } from '../../../src/token/base64url.ts';
import { parseJwsShape, parseTokenShape } from '../../../src/token/shape.ts';

const enc = (value: string) => base64UrlEncode(new TextEncoder().encode(value));
const json = (value: unknown) => enc(JSON.stringify(value));
const SIG = 'c2ln';
const token = (header: unknown, payload: unknown = { sub: 'a' }) => `${json(header)}.${json(payload)}.${SIG}`;

describe('parseTokenShape', () => {
  it('accepts a well-formed token and returns its header and payload', () => {
    const raw = token({ alg: 'RS256', typ: 'at+jwt', kid: 'k-1' }, { sub: 'u', n: 1 });
    const result = parseTokenShape(raw);
    // The signing input is the bytes of the text before the second dot (RFC 7515 section 5.2).
    const signingInput = new TextEncoder().encode(raw.slice(0, raw.lastIndexOf('.')));
    expect(result).toEqual({
      ok: true,
      token: { signingInput, signature: new Uint8Array([0x73, 0x69, 0x67]), header: { alg: 'RS256', typ: 'at+jwt', kid: 'k-1' }, payload: { sub: 'u', n: 1 } },
    });
  });

  it("keeps each token's bytes its own: tokens parsed after it, by either decoder, leave its signature, signing input and payload as they were", () => {
    // Signatures of 342 characters (RS256: the runtime's decoder) and 86 (ES256: the JavaScript loop), payloads of both sizes.
    const made = [256, 64, 256, 64].map((signatureBytes, i) => {
      const signature = crypto.getRandomValues(new Uint8Array(signatureBytes));
      const payload = { sub: `user-${i}`, pad: 'p'.repeat(i % 2 === 0 ? 200 : 2) };
      const raw = `${json({ alg: 'RS256', kid: `k-${i}` })}.${json(payload)}.${base64UrlEncode(signature)}`;
      return { raw, signature, payload, signingInput: new TextEncoder().encode(raw.slice(0, raw.lastIndexOf('.'))) };
    });
    const parsed = made.map(({ raw }) => parseTokenShape(raw));
    const jws = made.map(({ raw }) => parseJwsShape(raw));
    made.forEach(({ signature, payload, signingInput }, i) => {
      const result = parsed[i]!;
      const bare = jws[i]!;
      if (!result.ok || !bare.ok) throw new Error(`token ${i} refused`);
      expect(result.token.signature).toEqual(signature);
      expect(result.token.signingInput).toEqual(signingInput);
      expect(result.token.payload).toEqual(payload);
      expect(bare.jws.payloadBytes).toEqual(new TextEncoder().encode(JSON.stringify(payload)));
    });
  });

  it('judges a header segment once per isolate and the same every time: refused stays refused, accepted is shared and frozen', () => {
    const refused = token({ alg: 'RS256', jku: 'https://evil.example/jwks' });
    for (let i = 0; i < 3; i++) expect(parseTokenShape(refused)).toEqual({ ok: false, finding: { code: 'token_malformed', detail: 'header parameter "jku" is not accepted' } });
    const first = parseTokenShape(token({ alg: 'ES256', kid: 'shared' }, { sub: 'a' }));
    const second = parseTokenShape(token({ alg: 'ES256', kid: 'shared' }, { sub: 'b' }));
    if (!first.ok || !second.ok) throw new Error('expected both accepted');
    expect(second.token.header).toBe(first.token.header);
    expect(Object.isFrozen(first.token.header)).toBe(true);
    expect(second.token.payload).toEqual({ sub: 'b' });
    // One character more is another segment, judged on its own.
    expect(parseTokenShape(token({ alg: 'ES256', kid: 'shared', jwk: {} })).ok).toBe(false);
  });

  it('keeps at most 128 judged headers: past that it starts over, and a header judged again is equal, frozen, new', () => {
    const first = parseTokenShape(token({ alg: 'ES256', kid: 'bound-0' }));
    for (let i = 1; i <= JUDGED_HEADERS_MAX_ENTRIES; i++) expect(parseTokenShape(token({ alg: 'ES256', kid: `bound-${i}` })).ok).toBe(true);
    const again = parseTokenShape(token({ alg: 'ES256', kid: 'bound-0' }));
    if (!first.ok || !again.ok) throw new Error('expected both accepted');
    expect(again.token.header).not.toBe(first.token.header);
    expect(again.token.header).toEqual(first.token.header);
    expect(Object.isFrozen(again.token.header)).toBe(true);
  });

  it('accepts the x5t thumbprints Entra ID sends beside kid', () => {
    expect(parseTokenShape(token({ alg: 'RS256', kid: 'k', x5t: 'abc', 'x5t#S256': 'def' })).ok).toBe(true);
  });

  it.each([{ x5t: { nested: ['x'] } }, { x5t: 7 }, { 'x5t#S256': 'not base64url!' }, { x5t: '' }])('refuses a thumbprint that is not base64url text: %j', (extra) => {
    const result = parseTokenShape(token({ alg: 'RS256', kid: 'k', ...extra }));
    expect(result).toMatchObject({ ok: false, finding: { code: 'token_malformed', detail: expect.stringMatching(/^header: x5t(#S256)? is not base64url text$/) } });
  });

  it.each([
    ['too large', `${json({ alg: 'RS256' })}.${'A'.repeat(MAX_TOKEN_BYTES)}.${SIG}`, 'token too large'],
    ['two segments', `${json({ alg: 'RS256' })}.${json({})}`, 'not three segments'],
    ['JWE', 'a.b.c.d.e', 'JWE (5 segments) is not accepted'],
    ['empty signature', `${json({ alg: 'none' })}.${json({})}.`, 'empty segment or character outside base64url'],
    ['empty header', `.${json({})}.${SIG}`, 'empty segment or character outside base64url'],
    ['padding', `${json({ alg: 'RS256' })}=.${json({})}.${SIG}`, 'empty segment or character outside base64url'],
    ['non-canonical trailing bits in the signature', `${json({ alg: 'RS256' })}.${json({})}.AAF`, 'signature: not canonical base64url'],
    ['non-canonical trailing bits in the payload', `${json({ alg: 'RS256' })}.e31.${SIG}`, 'payload: not canonical base64url'],
    ['header not JSON', `${enc('{alg')}.${json({})}.${SIG}`, 'header: not JSON'],
    ['header an array', `${json(['RS256'])}.${json({})}.${SIG}`, 'header: not a JSON object'],
    ['header not UTF-8', `${base64UrlEncode(new Uint8Array([0x7b, 0xff, 0x7d]))}.${json({})}.${SIG}`, 'header: not UTF-8'],
    ['header with BOM', `${enc('\ufeff{"alg":"RS256"}')}.${json({})}.${SIG}`, 'header: byte order mark'],
    ['payload a string', `${json({ alg: 'RS256' })}.${json('x')}.${SIG}`, 'payload: not a JSON object'],
    ['payload null', `${json({ alg: 'RS256' })}.${json(null)}.${SIG}`, 'payload: not a JSON object'],
    ['alg missing', token({ typ: 'JWT' }), 'header: alg is not a string'],
    ['alg not a string', token({ alg: 1 }), 'header: alg is not a string'],
    ['typ not a string', token({ alg: 'RS256', typ: 1 }), 'header: typ is not a string'],
    ['kid a number', token({ alg: 'RS256', kid: 7 }), 'header: kid is not a short printable string'],
    ['kid with a newline', token({ alg: 'RS256', kid: 'a\nb' }), 'header: kid is not a short printable string'],
    ['kid huge', token({ alg: 'RS256', kid: 'k'.repeat(257) }), 'header: kid is not a short printable string'],
    ['header too large', token({ alg: 'RS256', typ: 'x'.repeat(1100) }), 'header too large'],
  ])('refuses %s', (_name, raw, detail) => {
    expect(parseTokenShape(raw)).toEqual({ ok: false, finding: { code: 'token_malformed', detail } });
  });

  it.each(['crit', 'b64', 'enc', 'zip', 'cty', 'jwk', 'jku', 'x5u', 'x5c', 'x-custom'])('refuses the %s header parameter', (name) => {
    expect(parseTokenShape(token({ alg: 'RS256', [name]: 'x' }))).toEqual({
      ok: false,
      finding: { code: 'token_malformed', detail: `header parameter "${name}" is not accepted` },
    });
  });
});

describe('parseJwsShape (the JWS half of the gate, for test vectors whose payload is not a claim set)', () => {
  it('accepts any canonical payload bytes and applies every header rule', () => {
    const result = parseJwsShape(`${json({ alg: 'RS256' })}.${enc('not json')}.${SIG}`);
    expect(result).toMatchObject({ ok: true, jws: { payloadBytes: new TextEncoder().encode('not json'), header: { alg: 'RS256' } } });
    expect(parseJwsShape(`${json({ alg: 'RS256', crit: ['b64'] })}.${enc('x')}.${SIG}`)).toMatchObject({ ok: false });
    expect(parseJwsShape(`${json({ alg: 'RS256' })}.e31.${SIG}`)).toEqual({ ok: false, finding: { code: 'token_malformed', detail: 'payload: not canonical base64url' } });
  });
  it('parseTokenShape is parseJwsShape plus a strict JSON object payload', () => {
    expect(parseTokenShape(`${json({ alg: 'RS256' })}.${enc('not json')}.${SIG}`)).toEqual({ ok: false, finding: { code: 'token_malformed', detail: 'payload: not JSON' } });
  });
});
