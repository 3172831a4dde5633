/** The deny list's matching rules, table-driven, with the clock as an argument. */
import { describe, expect, it } from 'vitest';
import { compileDenyList, deniedBy, revocationFinding, type DenyEntry } from '../../../src/control/deny-list.ts';

const NOW = 1_800_000_000;
const entry = (e: Partial<DenyEntry> & Pick<DenyEntry, 'kind' | 'value'>): DenyEntry => ({ id: `${e.kind}-x`, expiresAt: NOW + 600, createdAt: NOW - 10, by: 'test', ...e });
const token = (claims: Record<string, unknown>, extra: { issuerId?: string; kid?: string; app?: string | null; now?: number } = {}) => ({
  issuerId: extra.issuerId ?? 'idp',
  kid: extra.kid ?? 'k1',
  claims: { iss: 'https://idp.example/', sub: 'u1', iat: NOW - 60, exp: NOW + 300, ...claims },
  app: extra.app ?? 'billing',
  now: extra.now ?? NOW,
});

describe('deniedBy', () => {
  const cases: { name: string; entries: DenyEntry[]; token: ReturnType<typeof token>; denied: boolean }[] = [
    { name: 'an empty list denies nothing', entries: [], token: token({ jti: 'a' }), denied: false },
    { name: 'jti of any issuer', entries: [entry({ kind: 'jti', value: 'a' })], token: token({ jti: 'a' }), denied: true },
    { name: 'jti: another jti passes', entries: [entry({ kind: 'jti', value: 'a' })], token: token({ jti: 'b' }), denied: false },
    { name: 'jti limited to another issuer passes', entries: [entry({ kind: 'jti', value: 'a', issuer: 'other' })], token: token({ jti: 'a' }), denied: false },
    { name: 'jti limited to its issuer', entries: [entry({ kind: 'jti', value: 'a', issuer: 'idp' })], token: token({ jti: 'a' }), denied: true },
    { name: 'an expired entry is ignored', entries: [entry({ kind: 'jti', value: 'a', expiresAt: NOW })], token: token({ jti: 'a' }), denied: false },
    { name: 'sub: every token of the subject', entries: [entry({ kind: 'sub', value: 'u1' })], token: token({}), denied: true },
    { name: 'sub of another app passes', entries: [entry({ kind: 'sub', value: 'u1', app: 'reports' })], token: token({}), denied: false },
    { name: 'sub of this app', entries: [entry({ kind: 'sub', value: 'u1', app: 'billing' })], token: token({}), denied: true },
    { name: 'sub issued before T: older token', entries: [entry({ kind: 'sub', value: 'u1', issuedBefore: NOW - 30 })], token: token({ iat: NOW - 31 }), denied: true },
    { name: 'sub issued before T: a token issued at T passes', entries: [entry({ kind: 'sub', value: 'u1', issuedBefore: NOW - 30 })], token: token({ iat: NOW - 30 }), denied: false },
    { name: 'sub issued before T: a token without iat counts as older', entries: [entry({ kind: 'sub', value: 'u1', issuedBefore: NOW - 30 })], token: token({ iat: undefined }), denied: true },
    { name: 'sub issued before T: another subject passes', entries: [entry({ kind: 'sub', value: 'u2', issuedBefore: NOW })], token: token({}), denied: false },
    { name: 'kid', entries: [entry({ kind: 'kid', value: 'k1', issuer: 'idp' })], token: token({}), denied: true },
    { name: 'kid of another issuer passes', entries: [entry({ kind: 'kid', value: 'k1', issuer: 'other' })], token: token({}), denied: false },
    { name: 'issuer: every token', entries: [entry({ kind: 'issuer', value: 'idp' })], token: token({}), denied: true },
    { name: 'issuer: another issuer passes', entries: [entry({ kind: 'issuer', value: 'other' })], token: token({}), denied: false },
    { name: 'issuer issued before T: newer passes', entries: [entry({ kind: 'issuer', value: 'idp', issuedBefore: NOW - 100 })], token: token({}), denied: false },
    { name: 'issuer issued before T: older refused', entries: [entry({ kind: 'issuer', value: 'idp', issuedBefore: NOW })], token: token({}), denied: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(deniedBy(compileDenyList(c.entries, 1), c.token) !== null).toBe(c.denied);
    });
  }
});

describe('revocationFinding', () => {
  const list = compileDenyList([entry({ id: 'sub-7', kind: 'sub', value: 'u1' })], 7);
  it('names the entry by id and kind, never by its value (a subject)', () => {
    const f = revocationFinding({ list, current: true, failOpen: new Set() }, token({}));
    expect(f).toEqual({ code: 'token_revoked', detail: 'deny entry sub-7 (sub)' });
    expect(JSON.stringify(f)).not.toContain('u1');
  });
  it('a list no longer current fails closed, unless the issuer is fail-open (then the last list still applies)', () => {
    const stale = compileDenyList([], 7);
    expect(revocationFinding({ list: stale, current: false, failOpen: new Set() }, token({}))?.code).toBe('keys_unavailable');
    expect(revocationFinding({ list: stale, current: false, failOpen: new Set(['idp']) }, token({}))).toBeNull();
    expect(revocationFinding({ list, current: false, failOpen: new Set(['idp']) }, token({}))?.code).toBe('token_revoked');
  });
});
