/**
 * An origin on 127.0.0.1 that records every request it receives (method, path, headers, body) and
 * answers 200 with a small JSON echo, so a test can assert what the gateway forwarded. With a check
 * (`GatewayTrust.check`), it first verifies the gateway's signed identity assertion with the origin module
 * (src/origin/, what an origin behind the gateway runs) and refuses the request with 401 if that fails.
 */
import { decodeJwt } from 'jose';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { DEFAULT_GATEWAY_JWKS_PATH } from '../../../src/config/constants.ts';
import { AssertionError, createGatewayVerifier, type VerifiedIdentity } from '../../../src/origin/index.ts';

export interface ReceivedRequest {
  method: string;
  /** As received: with the query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The identity the origin module verified from the gateway's assertion, when the origin's check returned one. */
  identity?: VerifiedIdentity;
}

/**
 * Checks what arrived before the origin answers, and may return the verified identity; a thrown error
 * makes the origin answer 401 (`{"origin_refused": <code>}`), as a real origin refusing the caller would.
 */
export type OriginCheck = (request: ReceivedRequest) => Promise<VerifiedIdentity | void> | VerifiedIdentity | void;

type Verifier = ReturnType<typeof createGatewayVerifier>;

/**
 * The origin's trust in the gateways in front of it, through the origin module (`createGatewayVerifier`,
 * docs/origin.md): every request must carry an assertion that verifies against the keys a trusted gateway
 * publishes at its JWKS path (fetched from the gateway, cached by the module), for this origin's audience,
 * bound to the method, Host and path received and to the identity headers received.
 *
 * Several gateways share this origin, each with its own signing key and assertion issuer. The assertion's
 * iss, read before verifying, only picks which gateway's verifier judges it; that verifier pins the same
 * iss and accepts only that gateway's keys. An unknown iss is refused.
 */
export class GatewayTrust {
  readonly #audience: string;
  readonly #verifiers = new Map<string, Verifier>();

  constructor(audience: string) {
    this.#audience = audience;
  }

  /** Trusts the gateway at `gatewayUrl`, whose assertions name `issuer`. */
  trust(issuer: string, gatewayUrl: string): void {
    const jwksUrl = new URL(DEFAULT_GATEWAY_JWKS_PATH, gatewayUrl);
    this.#verifiers.set(issuer, createGatewayVerifier({ issuer, audience: this.#audience, jwksUrl }));
  }

  readonly check: OriginCheck = async (request) => {
    const assertion = request.headers['x-verified-assertion'];
    let issuer: unknown;
    try {
      issuer = typeof assertion === 'string' ? decodeJwt(assertion).iss : undefined;
    } catch {
      throw new AssertionError('assertion_invalid', 'the assertion is not a JWT');
    }
    const verify = typeof issuer === 'string' ? this.#verifiers.get(issuer) : undefined;
    if (!verify) throw new AssertionError(assertion === undefined ? 'assertion_missing' : 'issuer_mismatch', 'no trusted gateway issued this');
    const result = await verify({
      method: request.method,
      host: String(request.headers.host),
      path: request.path.split('?')[0]!,
      query: request.path.includes('?') ? request.path.slice(request.path.indexOf('?')) : '',
      headers: request.headers,
    });
    if (!result.ok) throw result.error;
    return result.identity;
  };
}

export class RecordingOrigin {
  readonly url: string;
  readonly received: ReceivedRequest[] = [];
  readonly #server: Server;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(port: number, check: OriginCheck = () => {}): Promise<RecordingOrigin> {
    let origin: RecordingOrigin | undefined;
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const request: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      origin!.received.push(request);
      try {
        request.identity = (await check(request)) ?? undefined;
      } catch (error) {
        const refused = error instanceof AssertionError ? error.code : String(error);
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ origin_refused: refused }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ origin: 'recording', path: request.path }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    origin = new RecordingOrigin(server, port);
    return origin;
  }

  /** The request the gateway forwarded with this request id (x-verified-request-id). */
  requestWithId(requestId: string): ReceivedRequest | undefined {
    return this.received.find((r) => r.headers['x-verified-request-id'] === requestId);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
