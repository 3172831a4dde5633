import { describe, expect, it } from 'vitest';
import type { CompiledIssuer } from '../../../src/config/types.ts';
import { docNames, parseStoredEntry } from '../../../src/keys/stored-doc.ts';
import { makeKey } from '../../helpers/keys.ts';

const key = (await makeKey('RS256', 'k1')).publicJwk;
const ISS = 'https://idp.example';
const good = { v: 1, kind: 'jwks', issuer: ISS, source: `${ISS}/jwks`, fetchedAt: 100, expiresAt: 400, keys: [key] };
const issuer = (url: string) => ({ id: 'idp', issuer: ISS, keySource: { kind: 'jwks', url } }) as CompiledIssuer;

describe('parseStoredEntry', () => {
  it('reads back what was stored', () => {
    expect(parseStoredEntry(JSON.stringify(good), 'jwks', ISS)?.doc).toEqual(good);
  });

  it("reads the Cache API's mark of the data centre's last look, with the set or alone", () => {
    expect(parseStoredEntry(JSON.stringify({ ...good, triedAt: 350 }), 'jwks', ISS)).toEqual({ doc: good, triedAt: 350 });
    expect(parseStoredEntry(JSON.stringify({ v: 1, kind: 'jwks', issuer: ISS, triedAt: 350 }), 'jwks', ISS)).toEqual({ doc: null, triedAt: 350 });
  });

  it.each<[string, unknown]>([
    ['a mark alone of another issuer', { v: 1, kind: 'jwks', issuer: 'https://evil.example', triedAt: 350 }],
    ['a mark alone with a broken time', { v: 1, kind: 'jwks', issuer: ISS, triedAt: -1 }],
    ['another version', { ...good, v: 2 }],
    ['another issuer', { ...good, issuer: 'https://evil.example' }],
    ['another kind', { ...good, kind: 'discovery' }],
    ['a broken time', { ...good, expiresAt: 'later' }],
    ['an expiry before the fetch', { ...good, expiresAt: 50 }],
    ['private key material (a tampered entry)', { ...good, keys: [{ ...key, d: 'AQAB' }] }],
    ['no keys', { ...good, keys: [] }],
    ['not JSON', 'garbage'],
  ])('refuses %s', (_name, value) => {
    expect(parseStoredEntry(typeof value === 'string' ? value : JSON.stringify(value), 'jwks', ISS)).toBeNull();
  });
});

describe('docNames', () => {
  it('are versioned, name the issuer, and change when the key source changes', async () => {
    const a = await docNames('jwks', issuer(`${ISS}/jwks`));
    const b = await docNames('jwks', issuer(`${ISS}/other-jwks`));
    expect(a.kv).toMatch(/^keys:v1:jwks:idp:[0-9a-f]{16}$/);
    expect(a.cache).toMatch(/^https:\/\/keys\.edge-jwt-gateway\.invalid\/v1\/jwks\/idp\/[0-9a-f]{16}$/);
    expect(b.kv).not.toBe(a.kv);
    expect((await docNames('discovery', issuer(`${ISS}/jwks`))).kv).toMatch(/^keys:v1:discovery:idp:/);
  });

  it('keep their documented form: entries stored by a deployed gateway stay found after an upgrade', async () => {
    // printf '%s' $'https://idp.example\nhttps://idp.example/jwks' | sha256sum | cut -c1-16
    expect(await docNames('jwks', issuer(`${ISS}/jwks`))).toEqual({
      kv: 'keys:v1:jwks:idp:b17fa563ccc10a58',
      cache: 'https://keys.edge-jwt-gateway.invalid/v1/jwks/idp/b17fa563ccc10a58',
    });
  });
});
