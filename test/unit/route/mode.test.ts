/** What each route mode does with an authentication result, and which requests are CORS preflights. */
import { describe, expect, it } from 'vitest';
import type { CompiledIssuer, CompiledRoute, RouteMode } from '../../../src/config/types.ts';
import { finding, type FindingCode } from '../../../src/findings.ts';
import { admit, decide, isCorsPreflight } from '../../../src/route/mode.ts';
import type { Authentication, Evidence } from '../../../src/verify/authenticate.ts';

const evidence: Evidence = { kid: null, alg: null, iss: null, keyLayer: null, aud: null, app: null, sub: null };
const route = (mode: RouteMode, corsPreflight = false) => ({ mode, corsPreflight }) as CompiledRoute;
const issuer = { id: 'idp' } as CompiledIssuer;
const ok: Authentication = { ok: true, claims: { sub: 'u' }, issuer, evidence };
const failed = (...codes: FindingCode[]): Authentication => ({ ok: false, findings: codes.map((c) => finding(c)), evidence });

describe('decide', () => {
  it.each<[RouteMode, Authentication, string, FindingCode[]]>([
    ['enforce', ok, 'allowed', []],
    ['enforce', failed('token_missing'), 'deny', ['token_missing']],
    ['enforce', failed('audience_mismatch', 'app_mismatch'), 'deny', ['audience_mismatch', 'app_mismatch']],
    ['enforce', failed('keys_unavailable'), 'deny', ['keys_unavailable']],
    ['report-only', ok, 'allowed', []],
    ['report-only', failed('token_missing'), 'report_only', ['token_missing']],
    ['report-only', failed('audience_mismatch', 'scope_insufficient'), 'report_only', ['audience_mismatch', 'scope_insufficient']],
    ['report-only', failed('keys_unavailable'), 'report_only', ['keys_unavailable']],
    ['report-only', failed('request_invalid'), 'report_only', ['request_invalid']],
    ['optional', ok, 'allowed', []],
    ['optional', failed('token_missing'), 'anonymous', []],
    ['optional', failed('token_malformed'), 'deny', ['token_malformed']],
    ['optional', failed('token_expired'), 'deny', ['token_expired']],
    ['optional', failed('request_invalid'), 'deny', ['request_invalid']],
    ['optional', failed('keys_unavailable'), 'deny', ['keys_unavailable']],
  ])('%s with %j -> %s', (mode, authentication, expected, codes) => {
    const decision = decide(route(mode), authentication);
    expect(decision.kind === 'deny' ? 'deny' : decision.outcome).toBe(expected);
    expect(decision.findings.map((f) => f.code)).toEqual(codes);
    if (decision.kind === 'forward') expect(decision.verified !== null).toBe(authentication.ok);
  });
});

describe('admit', () => {
  const preflight = new Headers({ origin: 'https://app.example', 'access-control-request-method': 'POST' });
  it.each<[string, CompiledRoute, string, Headers, string]>([
    ['public route', route('public'), 'GET', new Headers(), 'public'],
    ['public route, preflight', route('public'), 'OPTIONS', preflight, 'public'],
    ['opted-in preflight', route('enforce', true), 'OPTIONS', preflight, 'preflight'],
    ['opted-in preflight on optional', route('optional', true), 'OPTIONS', preflight, 'preflight'],
    ['preflight without opt-in', route('enforce'), 'OPTIONS', preflight, 'authenticate'],
    ['OPTIONS without preflight headers', route('enforce', true), 'OPTIONS', new Headers({ origin: 'https://app.example' }), 'authenticate'],
    ['GET with preflight headers', route('enforce', true), 'GET', preflight, 'authenticate'],
  ])('%s -> %s', (_name, r, method, headers, expected) => {
    expect(admit(r, method, headers)).toBe(expected);
  });

  it('isCorsPreflight needs OPTIONS, Origin and Access-Control-Request-Method', () => {
    expect(isCorsPreflight('OPTIONS', new Headers({ origin: 'o', 'access-control-request-method': 'PUT' }))).toBe(true);
    expect(isCorsPreflight('OPTIONS', new Headers({ 'access-control-request-method': 'PUT' }))).toBe(false);
  });
});
