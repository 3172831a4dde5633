/** The HMAC key of a `secret_binding` issuer: imported once per isolate, never a 500, never the secret in a finding. */
import { describe, expect, it } from 'vitest';
import { resolveSecretKey } from '../../../src/keys/secret-key.ts';

const SECRET_256 = 'a'.repeat(32);

describe('resolveSecretKey', () => {
  it('imports the secret once and reuses the CryptoKey', async () => {
    const first = await resolveSecretKey('S1', 'HS256', { S1: SECRET_256 });
    const second = await resolveSecretKey('S1', 'HS256', { S1: SECRET_256 });
    expect(first.ok && second.ok).toBe(true);
    if (first.ok && second.ok) {
      expect(second.key).toBe(first.key);
      expect(first.key.algorithm).toMatchObject({ name: 'HMAC', hash: { name: 'SHA-256' } });
      expect(first.key.usages).toEqual(['verify']);
      expect(first.key.extractable).toBe(false);
    }
  });

  it('imports again when the secret changed (a new deploy in the same isolate)', async () => {
    const first = await resolveSecretKey('S2', 'HS256', { S2: SECRET_256 });
    const second = await resolveSecretKey('S2', 'HS256', { S2: 'b'.repeat(32) });
    expect(first.ok && second.ok && first.key !== second.key).toBe(true);
  });

  it.each<[string, string, Record<string, unknown>, string]>([
    ['a missing binding', 'HS256', {}, 'keys_unavailable'],
    ['an empty secret', 'HS256', { S: '' }, 'keys_unavailable'],
    ['a binding that is not a string (a KV namespace)', 'HS256', { S: { get() {} } }, 'keys_unavailable'],
    ['a secret shorter than SHA-256', 'HS256', { S: 'a'.repeat(31) }, 'keys_unavailable'],
    ['a 32-byte secret for HS384', 'HS384', { S: SECRET_256 }, 'keys_unavailable'],
    ['a 48-byte secret for HS512', 'HS512', { S: 'a'.repeat(48) }, 'keys_unavailable'],
    ['an asymmetric algorithm', 'RS256', { S: SECRET_256 }, 'kid_unknown'],
  ])('refuses %s', async (_name, alg, env, code) => {
    const result = await resolveSecretKey('S', alg as 'HS256', env);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.finding.code).toBe(code);
      expect(JSON.stringify(result.finding)).not.toContain('aaaa');
    }
  });

  it('accepts multi-byte secrets by their UTF-8 length', async () => {
    expect((await resolveSecretKey('S3', 'HS256', { S3: 'é'.repeat(16) })).ok).toBe(true);
  });
});
