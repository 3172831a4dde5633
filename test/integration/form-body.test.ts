/**
 * A urlencoded form body can carry a second credential (access_token, RFC 6750 2.2) and a method override
 * (_method, read by Rails, Laravel and Symfony): the gateway reads such a body, refuses either, and forwards
 * every other one byte for byte (src/request/form-body.ts).
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../helpers/gateway.ts';
import { demoClaims, jwksOf, makeKey, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';

const JWKS_URL = 'http://127.0.0.1:8788/.well-known/jwks.json';
let key: TestKey;
let token: string;

beforeAll(async () => {
  key = await makeKey('RS256', 'form-rs256');
  token = await sign(key, demoClaims({ app_id: 'billing' }), { header: { typ: 'at+jwt' } });
});
const scene = useOutsideWorld(() => new OutsideWorld().serveJwks(JWKS_URL, jwksOf(key)).origin('127.0.0.1:8789'));

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const post = (path: string, body: BodyInit, headers: Record<string, string>) => exports.default.fetch(new Request(`http://gateway.test${path}`, { method: 'POST', headers, body }));

describe('urlencoded form bodies', () => {
  it.each([
    ['access_token', 'a=1&access_token=forged'],
    ['access_token, escaped', 'a=1&%61ccess_token=forged'],
    ['_method', '_method=DELETE&a=1'],
    ['_method after ";"', 'a=1;_method=DELETE'],
  ])('refuses a form with %s (400 request_invalid), and nothing reaches the origin', async (_, body) => {
    const response = await post('/billing/invoices', body, { ...FORM, ...bearer(token) });
    expect(response.status).toBe(400);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"');
    expect(scene.world.originRequests).toHaveLength(0);
    expect(scene.logs.last().findings[0]).toMatchObject({ code: 'request_invalid' });
  });

  it('refuses them on a public route too, where no token is read', async () => {
    const response = await post('/public/form', '_method=PUT', FORM);
    expect(response.status).toBe(400);
    expect(scene.world.originRequests).toHaveLength(0);
  });

  it('forwards any other form byte for byte, invalid UTF-8 included', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('name=a%20b&x='), 0xff, 0xfe]);
    const response = await post('/billing/invoices', bytes, { ...FORM, ...bearer(token) });
    expect(response.status).toBe(200);
    expect([...scene.world.lastOriginRequest().bytes]).toEqual([...bytes]);
  });

  it('refuses a form body over 64 KiB, which it will not hold', async () => {
    const response = await post('/billing/invoices', `a=${'x'.repeat(64 * 1024)}`, { ...FORM, ...bearer(token) });
    expect(response.status).toBe(400);
    expect(scene.logs.last().findings[0]!.detail).toContain('65536');
  });

  it('streams a JSON body that mentions _method through unread', async () => {
    const response = await post('/billing/invoices', '{"_method":"DELETE","access_token":"x"}', { 'content-type': 'application/json', ...bearer(token) });
    expect(response.status).toBe(200);
  });
});
