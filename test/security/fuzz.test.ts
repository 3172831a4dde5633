/**
 * Property-based fuzzing of the whole gateway (fast-check): mutants of valid tokens are never accepted
 * unless they are byte for byte a valid token, validly signed claims are accepted only when the contract
 * holds, and no input makes the gateway answer 5xx or throw.
 * CI runs a bounded number of cases per property; a long run: FUZZ_RUNS=100000 npx vitest run --project workerd
 * test/security/fuzz.test.ts (22 min measured; FUZZ_RUNS=1000000 about ten times that, README "Tests"). Every
 * request of a test shares one workerd IoContext, so nothing a request leaves behind may pile up: the
 * origin timer ends with its answer (src/forward/origin.ts; workerd allows 10,000 armed timers per context)
 * and the helpers' histories are cleared as the run goes (forgetHistory).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, MAX_NUMERIC_DATE } from '../../src/config/constants.ts';
import { base64UrlToBytes, base64UrlEncode } from '../../src/token/base64url.ts';
import { gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';
import { signClaims } from './attack-kit.ts';

const RUNS = inject('fuzzRuns') || 150;
// A long run outlasts vitest's 5 s default; about 2 ms a case, with room to spare on a busy machine.
vi.setConfig({ testTimeout: Math.max(30_000, RUNS * 20) });
const AUD = 'https://api.example';
const ISSUERS = { a: 'https://a.example', b: 'https://b.example' };

let world: OutsideWorld;
let logs: RecordCapture;
let gateway: ReturnType<typeof gatewayFor>;
let keys: { a: TestKey[]; b: TestKey[] };
/** Tokens the gateway must accept, byte for byte. */
let valid: string[];

beforeAll(async () => {
  keys = { a: [await makeKey('RS256', 'a-rs'), await makeKey('ES256', 'a-es')], b: [await makeKey('EdDSA', 'b-ed'), await makeKey('PS256', 'b-ps')] };
  world = new OutsideWorld().serveJwks('https://a.example/jwks', jwksOf(...keys.a)).serveJwks('https://b.example/jwks', jwksOf(...keys.b)).origin('origin.example').install();
  logs = new RecordCapture();
  gateway = gatewayFor({
    issuers: {
      a: { issuer: ISSUERS.a, jwks_uri: 'https://a.example/jwks', algorithms: ['RS256', 'ES256'], typ: 'at+jwt', app_claim: 'app_id' },
      b: { issuer: ISSUERS.b, jwks_uri: 'https://b.example/jwks', algorithms: ['EdDSA', 'PS256'], typ: 'at+jwt', app_claim: 'app_id' },
    },
    routes: { r: { path: '/api/*', issuers: ['a', 'b'], audiences: [AUD], app: 'shop', origin: 'https://origin.example' } },
  });
  const now = nowSeconds();
  valid = [];
  for (const [issuer, list] of [['a', keys.a], ['b', keys.b]] as const) {
    for (const key of list) {
      for (const sub of ['alice', 'bob']) {
        valid.push(await signClaims(key, { iss: ISSUERS[issuer], aud: [AUD, 'other'], sub, app_id: 'shop', scope: 'read', iat: now, exp: now + 3600 }));
      }
    }
  }
  for (const token of valid) expect((await call(token)).status).toBe(200);
});
afterAll(() => {
  world.restore();
  logs.restore();
});

/** Requests sent so far; the test helpers' histories are cleared every HISTORY_KEPT of them. */
let sent = 0;
const HISTORY_KEPT = 1000;

/**
 * Keeps memory flat in a long run: the helpers record every request (log lines, origin requests, fetched
 * URLs, and the spies' own call lists, which hold each Request). Nothing here reads them back except the
 * last record, which a refusal is judged by at once.
 */
function forgetHistory(): void {
  logs.records.length = 0;
  logs.lines.length = 0;
  world.originRequests.length = 0;
  world.fetched.length = 0;
  vi.clearAllMocks();
}

/** One request; the gateway must not throw and must not answer 5xx (a 500 is how it reports its own bugs). */
async function call(authorization: string): Promise<Response> {
  if (++sent % HISTORY_KEPT === 0) forgetHistory();
  const response = await send(gateway, new Request('https://gw.example/api/x', { headers: { authorization: `Bearer ${authorization}` } }));
  expect(response.status).toBeLessThan(500);
  return response;
}

const validSet = () => new Set(valid);
const anyValid = () => fc.constantFrom(...valid);
const options = () => ({ numRuns: RUNS, endOnFailure: true });

/** The credential as a Worker receives it (Headers trims the value), or null when no client could send it (CR, LF, NUL). */
function asReceived(candidate: string): string | null {
  try {
    return new Headers({ authorization: `Bearer ${candidate}` }).get('authorization')!.slice('Bearer '.length);
  } catch {
    return null;
  }
}

/** Mutants that no client could send (and that were therefore not sent), per property: must stay a minority. */
const unsendable = { count: 0, total: 0 };

/** Accepted only if byte for byte one of the valid tokens. */
async function acceptedOnlyIfValid(candidate: string): Promise<void> {
  const received = asReceived(candidate);
  unsendable.total++;
  if (received === null) {
    unsendable.count++;
    return;
  }
  const status = (await call(candidate)).status;
  if (status === 200) expect(validSet().has(received)).toBe(true);
  else expect([400, 401, 403]).toContain(status);
}

describe('fuzzing the token path', () => {
  it('bit flips in the token text are refused unless they give back a valid token', async () => {
    Object.assign(unsendable, { count: 0, total: 0 });
    await fc.assert(
      fc.asyncProperty(anyValid(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 4 }), async (token, flips) => {
        const chars = [...token];
        for (const [at, bit] of flips) {
          const i = at % chars.length;
          chars[i] = String.fromCharCode(chars[i]!.charCodeAt(0) ^ (1 << bit));
        }
        await acceptedOnlyIfValid(chars.join(''));
      }),
      options(),
    );
    // A flip into a control character makes a header value no client can send: those are skipped, a minority.
    expect(unsendable.count).toBeLessThan(unsendable.total / 2);
  });

  it('bit flips in the decoded bytes of one segment (re-encoded canonically) are refused', async () => {
    await fc.assert(
      fc.asyncProperty(anyValid(), fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 0, max: 7 }), async (token, segment, at, bit) => {
        const parts = token.split('.');
        const bytes = base64UrlToBytes(parts[segment]!)!;
        bytes[at % bytes.length]! ^= 1 << bit;
        parts[segment] = base64UrlEncode(bytes);
        await acceptedOnlyIfValid(parts.join('.'));
      }),
      options(),
    );
  });

  it('segments swapped between tokens (across keys and issuers) are refused unless the three belong together', async () => {
    await fc.assert(
      fc.asyncProperty(anyValid(), anyValid(), anyValid(), async (x, y, z) => {
        await acceptedOnlyIfValid(`${x.split('.')[0]}.${y.split('.')[1]}.${z.split('.')[2]}`);
      }),
      options(),
    );
  });

  it('a header or payload of one issuer transplanted into a token of the other is refused', async () => {
    // The first half of `valid` is issuer a's (two keys, two subjects), the second half issuer b's.
    const fromA = valid.slice(0, valid.length / 2);
    const fromB = valid.slice(valid.length / 2);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fromA), fc.constantFrom(...fromB), fc.constantFrom(0, 1), fc.boolean(), async (a, b, segment, intoA) => {
        const [target, donor] = intoA ? [a, b] : [b, a];
        const parts = target.split('.');
        parts[segment] = donor.split('.')[segment]!;
        const status = (await call(parts.join('.'))).status;
        expect(status).not.toBe(200);
      }),
      options(),
    );
  });

  it('arbitrary text as the bearer credential is never accepted and never a 5xx', async () => {
    const b64 = fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/);
    const tokenish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(b64, { minLength: 0, maxLength: 7 }).map((s) => s.join('.')),
      fc.tuple(fc.json(), fc.json(), b64).map(([h, p, s]) => `${base64UrlEncode(new TextEncoder().encode(h))}.${base64UrlEncode(new TextEncoder().encode(p))}.${s}`),
    );
    await fc.assert(
      fc.asyncProperty(tokenish, async (text) => {
        if (asReceived(text) === null) return;
        const status = (await call(text)).status;
        expect(status).not.toBe(200);
      }),
      options(),
    );
  });
});

describe('fuzzing the claims of validly signed tokens', () => {
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
  const date = fc.oneof(
    value,
    fc.integer({ min: -10, max: MAX_NUMERIC_DATE + 10 }),
    fc.double({ noNaN: true }),
    fc.integer({ min: -7200, max: 7200 }).map((d) => nowSeconds() + d),
    fc.integer({ min: -7200, max: 7200 }).map((d) => nowSeconds() + d + 0.5),
  );
  /** Mostly the right value, so that accepted tokens are common enough for the property to bite both ways. */
  const usually = <T,>(good: T, ...bad: fc.Arbitrary<unknown>[]) => fc.oneof({ arbitrary: fc.constant(good), weight: 6 }, ...bad);
  const soon = fc.integer({ min: 60, max: 3600 }).map((d) => nowSeconds() + d);
  const claims = fc.record({
    iss: usually(ISSUERS.a, fc.constant(`${ISSUERS.a}/`), fc.constant(ISSUERS.b), value),
    aud: usually(AUD, fc.constant([AUD]), fc.constant([AUD, 1]), fc.constant([]), fc.array(fc.oneof(fc.constant(AUD), fc.string())), value),
    // Surrogates alone and in pairs: a lone one (a valid JSON escape with no UTF-8 form) is refused, claim_invalid.
    sub: usually('alice', fc.constant(''), value, fc.string({ unit: fc.constantFrom('a', '\uD834', '\uDD1E', '\uDC00'), minLength: 1, maxLength: 3 })),
    app_id: usually('shop', fc.constant('SHOP'), value),
    exp: fc.oneof({ arbitrary: soon, weight: 4 }, date),
    nbf: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, date),
    iat: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, date),
  });

  /** Well-formed Unicode in every string and member name: encodeURIComponent throws URIError on a lone surrogate. */
  const isText = (v: unknown): boolean => {
    if (typeof v === 'string') {
      try {
        encodeURIComponent(v);
        return true;
      } catch {
        return false;
      }
    }
    if (typeof v !== 'object' || v === null) return true;
    return Object.entries(v).every(([name, member]) => isText(name) && isText(member));
  };

  /** The contract, written out independently of the gateway's code: what an accepted token must satisfy. */
  function contractHolds(c: Record<string, unknown>, now: number): boolean {
    if (!isText(c)) return false;
    const skew = DEFAULT_CLOCK_SKEW_SECONDS;
    const isDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_NUMERIC_DATE;
    const auds = typeof c.aud === 'string' ? [c.aud] : c.aud;
    if (c.iss !== ISSUERS.a) return false;
    if (!Array.isArray(auds) || auds.length === 0 || !auds.every((a) => typeof a === 'string') || !auds.includes(AUD)) return false;
    if (typeof c.sub !== 'string' || c.sub === '' || c.app_id !== 'shop') return false;
    if (!isDate(c.exp) || now >= c.exp + skew) return false;
    if (c.nbf !== undefined && (!isDate(c.nbf) || c.nbf > now + skew)) return false;
    if (c.iat !== undefined && (!isDate(c.iat) || c.iat > now + skew)) return false;
    const start = isDate(c.iat) ? c.iat : isDate(c.nbf) ? c.nbf : now;
    return c.exp - start <= DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  }

  it('random claim values and types: accepted only when the contract holds', async () => {
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(claims, fc.constantFrom(0, 1), async (raw, k) => {
        const c = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
        const before = nowSeconds();
        const status = (await call(await signClaims(keys.a[k]!, c))).status;
        const after = nowSeconds();
        // A second may tick during the request: judge against both ends of it and skip the rare boundary case.
        const holds = contractHolds(c, before);
        if (holds !== contractHolds(c, after)) return;
        expect([status, c]).toEqual([holds ? 200 : expect.any(Number), c]);
        if (!holds) expect([400, 401, 403]).toContain(status);
        seen[holds ? 'accepted' : 'refused']++;
      }),
      options(),
    );
    // Both outcomes occurred: the property was tested in both directions.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});
