import { afterEach, describe, expect, it } from 'vitest';
import { fetchJwks, maxAgeFrom } from '../../../src/keys/jwks-fetch.ts';
import { jwksOf, makeKey } from '../../helpers/keys.ts';
import { OutsideWorld } from '../../helpers/outside-world.ts';

const URL_ = 'https://idp.example/.well-known/jwks.json';
const key = await makeKey('RS256', 'k1');
let world: OutsideWorld;
afterEach(() => world.restore());

describe('fetchJwks', () => {
  it('returns the validated keys and the clamped max-age', async () => {
    world = new OutsideWorld().serveJwks(URL_, jwksOf(key), 120).install();
    expect(await fetchJwks(URL_, false)).toEqual({ ok: true, keys: [key.publicJwk], skipped: [], maxAgeSeconds: 120 });
  });

  it.each<[string, () => Response, string]>([
    ['a redirect', () => new Response(null, { status: 302, headers: { location: 'https://evil.example/jwks' } }), 'redirect (302) refused'],
    ['a 500', () => new Response('oops', { status: 500 }), 'status 500'],
    ['HTML', () => new Response('<html>login</html>', { headers: { 'content-type': 'text/html' } }), 'not JSON'],
    ['an oversized body', () => new Response(JSON.stringify({ keys: [], pad: 'x'.repeat(70_000) })), 'larger than 65536 bytes'],
    ['a declared oversized body', () => new Response('{}', { headers: { 'content-length': '10000000' } }), 'larger than 65536 bytes'],
    ['private key material', () => Response.json({ keys: [{ ...key.publicJwk, d: 'AA' }] }), 'keys[0]: key carries private or secret member "d"'],
    [
      'a body that breaks off',
      () => new Response(new ReadableStream({ pull: (controller) => controller.error(new TypeError('connection reset')) })),
      'network error while reading the body',
    ],
  ])('refuses %s', async (_name, responder, reason) => {
    world = new OutsideWorld().serve(URL_, responder).install();
    expect(await fetchJwks(URL_, false)).toEqual({ ok: false, reason });
  });

  it('refuses plain http, and http to loopback unless local development allows it', async () => {
    world = new OutsideWorld().serveJwks('http://127.0.0.1:8788/jwks', jwksOf(key)).install();
    expect(await fetchJwks('http://idp.example/jwks', true)).toEqual({ ok: false, reason: 'JWKS URL is not https' });
    expect(await fetchJwks('http://127.0.0.1:8788/jwks', false)).toEqual({ ok: false, reason: 'JWKS URL is not https' });
    expect((await fetchJwks('http://127.0.0.1:8788/jwks', true)).ok).toBe(true);
    expect(world.fetchCount()).toBe(1);
  });

  it('reports an unreachable issuer as a network error', async () => {
    world = new OutsideWorld().install();
    expect(await fetchJwks(URL_, false)).toEqual({ ok: false, reason: 'network error' });
  });
});

describe('maxAgeFrom', () => {
  it.each([
    [null, 600],
    ['no-cache', 600],
    ['public, max-age=120', 120],
    ['max-age=5', 60],
    ['max-age=999999', 86400],
    ['s-maxage=10, max-age=300', 300],
  ])('%j -> %i s', (header, seconds) => {
    expect(maxAgeFrom(header)).toBe(seconds);
  });
});
