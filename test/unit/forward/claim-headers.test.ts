import { describe, expect, it } from 'vitest';
import type { ClaimHeader } from '../../../src/config/types.ts';
import { claimHeaders } from '../../../src/forward/claim-headers.ts';
import { requestIdOf } from '../../../src/forward/request-id.ts';
import { canonicalHeaders } from '../../../src/origin/binding.ts';

const map = (header: string, claim: string[], format: ClaimHeader['format'] = 'join'): ClaimHeader => ({ header: `x-verified-${header}`, claim, format });

describe('claimHeaders', () => {
  it.each([
    ['a string', { email: 'a@b.example' }, map('email', ['email']), 'a@b.example'],
    ['a number', { n: 42 }, map('n', ['n']), '42'],
    ['a boolean', { b: false }, map('b', ['b']), 'false'],
    ['a nested claim', { org: { tenant: { id: 't-1' } } }, map('tenant', ['org', 'tenant', 'id']), 't-1'],
    ['a claim name with dots', { 'a.b': 'dotted', a: { b: 'nested' } }, map('ab', ['a.b']), 'dotted'],
    ['a URL-named claim', { 'https://example.com/roles': ['r1'] }, map('roles', ['https://example.com/roles']), 'r1'],
    ['an array, joined; commas inside elements encoded', { g: ['a', 'b,c', 'd e'] }, map('g', ['g']), 'a,b%2Cc,d e'],
    ['an array, as JSON', { g: ['a', 'b,c'] }, map('g', ['g'], 'json'), '["a","b,c"]'],
    ['an array of objects, joined -> JSON', { g: [{ id: 1 }] }, map('g', ['g']), '[{"id":1}]'],
    ['an object', { o: { k: 'v' } }, map('o', ['o']), '{"k":"v"}'],
    ['non-ASCII and CR/LF, percent-encoded', { n: 'Zoë\r\nx-verified-sub: admin' }, map('n', ['n']), 'Zo%C3%AB%0D%0Ax-verified-sub: admin'],
    ['a percent sign, encoded so decoding is exact', { p: '100%' }, map('p', ['p']), '100%25'],
  ])('%s', (_name, claims, mapping, expected) => {
    const result = claimHeaders(claims, [mapping]);
    expect(result.headers).toEqual([[mapping.header, expected]]);
  });

  it('keeps the raw values, with their JSON types, for the assertion', () => {
    expect(claimHeaders({ g: ['a', 'b,c'], n: 1 }, [map('g', ['g']), map('n', ['n'])]).values).toEqual({ 'x-verified-g': ['a', 'b,c'], 'x-verified-n': 1 });
  });

  it('leaves out absent and null claims, and values over 2048 bytes once encoded (never truncated)', () => {
    const result = claimHeaders({ n: null, big: 'é'.repeat(400), ok: 'x'.repeat(2048) }, [map('missing', ['missing']), map('n', ['n']), map('big', ['big']), map('ok', ['ok'])]);
    expect(result.headers).toEqual([['x-verified-ok', 'x'.repeat(2048)]]);
    expect(result.omitted).toEqual(['x-verified-big']);
  });

  it('does not follow paths through arrays or inherited members', () => {
    expect(claimHeaders({ a: [{ b: 1 }] }, [map('x', ['a', '0', 'b'])]).headers).toEqual([]);
    expect(claimHeaders({}, [map('x', ['constructor'])]).headers).toEqual([]);
  });
});

describe('canonicalHeaders', () => {
  it('sorts lower-cased names and writes one name:value line each', () => {
    expect(canonicalHeaders([['X-Verified-Sub', 'u'], ['x-verified-app', 'a']])).toBe('x-verified-app:a\nx-verified-sub:u\n');
  });
});

describe('requestIdOf', () => {
  const h = (init: Record<string, string>) => new Headers(init);
  const RAY = '8c2f1d7e6a5b4c3d-AMS';
  it.each([
    ['cf-ray when no header is configured', h({ 'cf-ray': RAY, 'x-request-id': 'c' }), null, RAY],
    ['cf-ray without its data centre', h({ 'cf-ray': '8c2f1d7e6a5b4c3d' }), null, '8c2f1d7e6a5b4c3d'],
    ['the configured header', h({ 'cf-ray': RAY, 'x-request-id': 'c-1' }), 'x-request-id', 'c-1'],
    ['cf-ray when the configured value has a space', h({ 'cf-ray': RAY, 'x-request-id': 'a b' }), 'x-request-id', RAY],
    ['cf-ray when the configured value is over 128 characters', h({ 'cf-ray': RAY, 'x-request-id': 'a'.repeat(129) }), 'x-request-id', RAY],
  ])('%s', (_name, headers, configured, expected) => {
    expect(requestIdOf(headers, configured)).toBe(expected);
  });

  it('a fresh UUID without cf-ray', () => {
    expect(requestIdOf(new Headers(), null)).toMatch(/^[0-9a-f-]{36}$/);
  });

  // A client-sent cf-ray (off Cloudflare's edge, which overwrites it) is client input like any other id.
  it.each([
    ['a word', 'admin'],
    ['a value like another request\'s id', 'req-e2e'],
    ['15 hex digits', '8c2f1d7e6a5b4c3-AMS'],
    ['17 hex digits', '8c2f1d7e6a5b4c3d0-AMS'],
    ['upper-case hex', '8C2F1D7E6A5B4C3D-AMS'],
    ['a lower-case colo', '8c2f1d7e6a5b4c3d-ams'],
    ['a four-letter colo', '8c2f1d7e6a5b4c3d-AMSX'],
    ['a suffix after the colo', '8c2f1d7e6a5b4c3d-AMS x'],
    ['128 visible characters', 'a'.repeat(128)],
  ])('a cf-ray that is not a ray id (%s) is ignored: a fresh UUID', (_name, ray) => {
    expect(requestIdOf(h({ 'cf-ray': ray }), null)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(requestIdOf(h({ 'cf-ray': ray, 'x-request-id': 'a b' }), 'x-request-id')).not.toBe(ray);
  });
});
