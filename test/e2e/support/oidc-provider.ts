/**
 * A real OpenID provider (`oidc-provider`, a certified implementation) on 127.0.0.1, for end-to-end tests.
 *
 * - Client credentials grant with resource indicators (RFC 8707): each token is an RFC 9068 JWT access
 *   token (`typ: at+jwt`, `aud` = the resource, `client_id`, `sub` = the client), signed by the provider.
 * - One confidential client per (algorithm, lifetime): the algorithm of an access token is chosen per
 *   resource server by oidc-provider, and `getResourceServerInfo` sees the client, so the client picks it.
 * - ID tokens come from a real authorization code flow through oidc-provider's devInteractions login form
 *   (see `obtainIdToken`): the token is the provider's own, not a look-alike built by the test.
 * - Key rotation: oidc-provider reads `jwks` once, when a Provider is constructed, so `setSigningKeys`
 *   stops the server and starts a new Provider on the same port with the new key set. The first key of
 *   each algorithm in the set signs; later ones are only published (the rotation overlap).
 * - `stop()` / `start()` take the provider off the port and put it back, for outage tests.
 *
 * Plain http on loopback: oidc-provider accepts an http issuer and serves discovery, JWKS, token and the
 * login flow over it (it warns at startup about its in-memory adapter and devInteractions, both meant for
 * tests like these); the gateway accepts an http key URL only on loopback with ALLOW_LOOPBACK_HTTP=true.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import Provider, { errors, type ClientMetadata, type Configuration, type JWK } from 'oidc-provider';

export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

/** A private signing key as oidc-provider takes it (a JWK with kid and alg). */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  jwk: JWK;
}

/** Token lifetimes the clients are registered with; the short one lets a test see a token expire in seconds. */
export const ACCESS_TOKEN_TTL_SECONDS = 300;
export const SHORT_ACCESS_TOKEN_TTL_SECONDS = 1;

const CLIENT_SECRET = 'interop-client-secret-not-a-real-secret';
const REDIRECT_URI = 'http://127.0.0.1/callback';
/** The one client that does the authorization code flow to get ID tokens. */
export const ID_TOKEN_CLIENT_ID = 'interop-web';

export function generateSigningKey(alg: SigningAlgorithm, kid: string): SigningKey {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return { kid, alg, jwk: { ...(pair.privateKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' } };
}

/** One key per algorithm, kids prefixed so that a rotated set can be told apart. */
export const generateKeySet = (prefix: string): SigningKey[] => SIGNING_ALGORITHMS.map((alg) => generateSigningKey(alg, `${prefix}-${alg.toLowerCase()}`));

export const clientIdFor = (alg: SigningAlgorithm, lifetime: 'normal' | 'short' = 'normal') =>
  `interop-${alg.toLowerCase()}${lifetime === 'short' ? '-short' : ''}`;

interface ClientProfile {
  alg: SigningAlgorithm;
  ttl: number;
}

function clientProfiles(): Map<string, ClientProfile> {
  const profiles = new Map<string, ClientProfile>();
  for (const alg of SIGNING_ALGORITHMS) {
    profiles.set(clientIdFor(alg), { alg, ttl: ACCESS_TOKEN_TTL_SECONDS });
    profiles.set(clientIdFor(alg, 'short'), { alg, ttl: SHORT_ACCESS_TOKEN_TTL_SECONDS });
  }
  return profiles;
}

export interface OidcProviderOptions {
  port: number;
  /** Resource indicators the provider issues access tokens for (any other is refused with invalid_target). */
  resources: string[];
  /** Cache-Control max-age on the JWKS, as real providers send it; the gateway clamps it to its own bounds. */
  jwksMaxAgeSeconds: number;
  keys: SigningKey[];
}

export class OidcProviderFixture {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly #options: OidcProviderOptions;
  readonly #profiles = clientProfiles();
  #keys: SigningKey[];
  #server: Server | null = null;
  /** Counts JWKS requests, so a test can tell a cache hit from a refetch. */
  jwksRequests = 0;
  /** Counts discovery document requests (`/.well-known/openid-configuration`): the gateway's first step with `discovery: true`. */
  discoveryRequests = 0;

  constructor(options: OidcProviderOptions) {
    this.#options = options;
    this.#keys = options.keys;
    this.issuer = `http://127.0.0.1:${options.port}`;
    this.jwksUri = `${this.issuer}/jwks`;
  }

  get keys(): readonly SigningKey[] {
    return this.#keys;
  }

  get running(): boolean {
    return this.#server !== null;
  }

  #configuration(): Configuration {
    const profiles = this.#profiles;
    const resources = new Set(this.#options.resources);
    const clients: ClientMetadata[] = [...profiles.keys()].map((client_id) => ({
      client_id,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    }));
    clients.push({
      client_id: ID_TOKEN_CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
    });
    return {
      clients,
      jwks: { keys: this.#keys.map((k) => k.jwk) },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          getResourceServerInfo: (ctx, resource, client) => {
            if (!resources.has(resource)) throw new errors.InvalidTarget();
            const profile = profiles.get(client.clientId);
            if (!profile) throw new errors.InvalidTarget();
            return {
              scope: 'api:read api:write',
              audience: resource,
              accessTokenTTL: profile.ttl,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: profile.alg } },
            };
          },
        },
      },
      // Every lifetime set, so none is a library default; an access token's comes from its client's profile.
      ttl: {
        ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_TTL_SECONDS,
        IdToken: ACCESS_TOKEN_TTL_SECONDS,
        AccessToken: ACCESS_TOKEN_TTL_SECONDS,
        AuthorizationCode: 60,
        Interaction: 60,
        Session: 600,
        Grant: 600,
      },
      // A first-party client: the grant is given without a consent screen, so the flow is login only.
      loadExistingGrant: async (ctx) => {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope('openid');
        await grant.save();
        return grant;
      },
      findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
      pkce: { required: () => true },
    };
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const provider = new Provider(this.issuer, this.#configuration());
    const maxAge = this.#options.jwksMaxAgeSeconds;
    provider.use(async (ctx, next) => {
      await next();
      // No keep-alive: a client must not reuse a socket across stop()/start(), or its next request after a
      // restart fails as "other side closed" although the provider is up. Outages are what stop() is for.
      ctx.set('connection', 'close');
      // oidc-provider sends the discovery document without Cache-Control: the gateway keeps it its default 600 s.
      if (ctx.path === '/.well-known/openid-configuration') this.discoveryRequests += 1;
      if (ctx.path === '/jwks') {
        this.jwksRequests += 1;
        ctx.set('cache-control', `public, max-age=${maxAge}`);
      }
    });
    const server = provider.listen(this.#options.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    // Keep-alive sockets (the gateway's fetches) would keep close() waiting: an outage drops them.
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  /** Rotation: the provider restarts on the same port with this key set (oidc-provider reads jwks only at construction). */
  async setSigningKeys(keys: SigningKey[]): Promise<void> {
    const wasRunning = this.running;
    await this.stop();
    this.#keys = keys;
    if (wasRunning) await this.start();
  }

  /** An RFC 9068 access token from the token endpoint (client credentials grant, one resource indicator). */
  async accessToken({ resource, alg = 'RS256', lifetime = 'normal' }: { resource: string; alg?: SigningAlgorithm; lifetime?: 'normal' | 'short' }): Promise<string> {
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientIdFor(alg, lifetime)) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'api:read' }),
    });
    const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
    if (response.status !== 200 || !body.access_token) {
      throw new Error(`token endpoint answered ${response.status}: ${body.error} ${body.error_description ?? ''}`);
    }
    return body.access_token;
  }

  /**
   * An ID token from a real authorization code flow (PKCE): /auth -> the devInteractions login form ->
   * /auth/:uid -> the redirect with a code -> /token. The cookies oidc-provider sets are carried by hand.
   */
  async idToken(subject: string): Promise<string> {
    const jar = new Map<string, string>();
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = new URL(`${this.issuer}/auth`);
    authorize.search = new URLSearchParams({
      client_id: ID_TOKEN_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      nonce: randomBytes(8).toString('hex'),
    }).toString();

    let location = await this.#step(jar, authorize.href);
    // The login form of devInteractions: any login name is accepted as the account id.
    const uid = /\/interaction\/([^/?]+)/.exec(location)?.[1];
    if (!uid) throw new Error(`expected a redirect to the login interaction, got ${location}`);
    location = await this.#step(jar, new URL(location, this.issuer).href, { prompt: 'login', login: subject });
    while (!location.startsWith(REDIRECT_URI)) location = await this.#step(jar, new URL(location, this.issuer).href);
    const code = new URL(location).searchParams.get('code');
    if (!code) throw new Error(`authorization failed: ${location}`);

    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(ID_TOKEN_CLIENT_ID) },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
    });
    const body = (await response.json()) as { id_token?: string; error?: string; error_description?: string };
    if (!body.id_token) throw new Error(`token endpoint answered ${response.status}: ${body.error} ${body.error_description ?? ''}`);
    return body.id_token;
  }

  /** One request of the browser flow: cookies in and out, the redirect's Location returned. */
  async #step(jar: Map<string, string>, url: string, form?: Record<string, string>): Promise<string> {
    const headers: Record<string, string> = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      headers,
      body: form ? new URLSearchParams(form) : undefined,
      redirect: 'manual',
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      throw new Error(`${url} answered ${response.status} without a redirect: ${(await response.text()).slice(0, 300)}`);
    }
    await response.body?.cancel();
    return location;
  }
}

const basic = (clientId: string) => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;

/** Starts a provider with a fresh key set and returns it; the caller stops it. */
export async function startOidcProvider(options: Omit<OidcProviderOptions, 'keys'> & { keys?: SigningKey[] }): Promise<OidcProviderFixture> {
  const fixture = new OidcProviderFixture({ ...options, keys: options.keys ?? generateKeySet('k1') });
  await fixture.start();
  return fixture;
}
