/**
 * The provider-token corpus (test/fixtures/provider-tokens/*.json): token headers and payloads as the
 * providers publish them (docs samples, SDK fixtures, public projects), each naming its source. Each is
 * re-signed here with a local key served at the preset's JWKS URL, its times moved to now (lifetimes kept),
 * and sent through the gateway built from the fixture's own policy: access tokens accepted, ID tokens and the
 * other confusions refused with exactly the findings the fixture records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, type JWTPayload } from 'jose';
import { Gateway } from '../../src/gateway.ts';
import type { CompiledConfig } from '../../src/config/types.ts';
import { bearer, compileOrThrow, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

interface RealToken {
  name: string;
  /** access: what the preset exists to accept; id, refresh, confusion: what it exists to refuse. */
  kind: 'access' | 'id' | 'refresh' | 'service' | 'confusion';
  /** The docs page URL, or repository and path, the header and payload come from (and what was changed). */
  source: string;
  route: string;
  header: Record<string, unknown>;
  payload: JWTPayload;
  expect: 'accepted' | string[];
  /** "hmac": signed with a shared secret under the published HS alg (a refresh token), to show the preset refuses it; else RS256. */
  sign?: 'hmac';
  note?: string;
}
interface ProviderCorpus {
  provider: string;
  policy: { issuers: Record<string, object>; routes: Record<string, { issuers: string[]; audiences: string[]; app?: string }> };
  tokens: RealToken[];
}

const CORPUS = import.meta.glob<ProviderCorpus>('../fixtures/provider-tokens/*.json', { eager: true, import: 'default' });
const ORIGIN = 'https://origin.example';
const TIME_CLAIMS = ['iat', 'nbf', 'exp'] as const;

/** The published token moved to now: iat, nbf and exp shifted by one amount, so its lifetime is the provider's (auth_time, only ever required to exist, is left as published). */
function movedToNow(payload: JWTPayload, now: number): JWTPayload {
  const anchor = payload.iat ?? payload.nbf ?? (payload.exp === undefined ? now : payload.exp - 300);
  const shift = now - 5 - anchor;
  const moved: JWTPayload = { ...payload };
  for (const claim of TIME_CLAIMS) if (typeof moved[claim] === 'number') moved[claim] = (moved[claim] as number) + shift;
  return moved;
}

/** Published headers keep everything but alg and kid, which become the local key's (or the HMAC secret's). */
async function resigned(key: TestKey, token: RealToken, now: number): Promise<string> {
  const { alg, kid: _kid, ...header } = token.header;
  const claims = movedToNow(token.payload, now);
  if (token.sign === 'hmac' && typeof alg === 'string') {
    const secret = await crypto.subtle.importKey('raw', new Uint8Array(64).fill(7), { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['sign']);
    return new SignJWT(claims).setProtectedHeader({ ...header, alg, kid: 'provider-hmac' }).sign(secret);
  }
  return sign(key, claims, { header });
}

function policyText({ policy }: ProviderCorpus): string {
  const routes = Object.fromEntries(Object.entries(policy.routes).map(([id, route]) => [id, { path: `/${id}/*`, origin: ORIGIN, ...route }]));
  return JSON.stringify({ issuers: policy.issuers, routes }, null, 2);
}

const corpora = Object.entries(CORPUS).map(([file, corpus]) => ({ file: file.replace(/^(\.\.\/)+/, 'test/'), ...corpus }));

it('the corpus covers every identity-provider preset, each token with its source', () => {
  const presets = new Set(corpora.flatMap((c) => Object.values(c.policy.issuers).map((i) => (i as { preset: string }).preset)));
  expect([...presets].sort()).toEqual(['auth0', 'azure-ad-b2c', 'cloudflare-access', 'cognito', 'entra', 'firebase', 'google', 'keycloak', 'okta']);
  for (const { tokens } of corpora) for (const token of tokens) expect(token.source.length).toBeGreaterThan(10);
});

describe.each(corpora)('$provider ($file)', (corpus) => {
  let gateway: Gateway;
  let config: CompiledConfig;
  let world: OutsideWorld;
  let logs: RecordCapture;
  /** The local key of each issuer: one per JWKS URL, so issuers of one tenant with different options share it, as at the provider. */
  const keyOfIssuer = new Map<string, TestKey>();

  beforeAll(async () => {
    config = compileOrThrow(policyText(corpus), corpus.file);
    gateway = new Gateway(config, { allowLoopbackHttp: false });
    world = new OutsideWorld().origin('origin.example');
    const keyOfUrl = new Map<string, TestKey>();
    for (const issuer of Object.values(config.issuers)) {
      if (issuer.keySource.kind !== 'jwks') continue;
      let key = keyOfUrl.get(issuer.keySource.url);
      if (!key) {
        keyOfUrl.set(issuer.keySource.url, (key = await makeKey('RS256', `local-${keyOfUrl.size}`)));
        world.serveJwks(issuer.keySource.url, jwksOf(key));
      }
      keyOfIssuer.set(issuer.id, key);
    }
    world.install();
    logs = new RecordCapture();
  });
  afterAll(() => {
    world.restore();
    logs.restore();
  });

  it.each(corpus.tokens)('$kind: $name -> $expect', async (token) => {
    const key = keyOfIssuer.get(corpus.policy.routes[token.route]!.issuers[0]!)!;
    const jwt = await resigned(key, token, nowSeconds());
    // Where the route reads its token (Cloudflare Access: Cf-Access-Jwt-Assertion), else as a bearer.
    const source = config.routes.find((route) => route.id === token.route)!.tokenSources?.[0];
    const headers = source?.kind === 'header' ? { [source.name]: jwt } : source?.kind === 'cookie' ? { cookie: `${source.name}=${jwt}` } : bearer(jwt);
    const response = await send(gateway, new Request(`https://gw.example/${token.route}/resource`, { headers }));
    const record = logs.last();
    if (token.expect === 'accepted') {
      expect(record.findings).toEqual([]);
      expect(response.status).toBe(200);
    } else {
      expect(record.findings.map((f) => f.code)).toEqual(token.expect);
      expect(response.status).toBe(token.expect.every((code) => code === 'scope_insufficient') ? 403 : 401);
    }
  });
});
