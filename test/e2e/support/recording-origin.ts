/**
 * An origin on 127.0.0.1 that records every request it receives (method, path, headers, body) and
 * answers 200 with a small JSON echo, so a test can assert what the gateway forwarded.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Checks what arrived before the origin answers; a thrown error makes the origin answer 401, as a real
 * origin refusing the gateway's identity would.
 *
 * TODO(issue 5, forwarding): plug the origin module here (src/origin/) to verify the gateway's signed
 * identity assertion against the gateway's published keys, and assert its claims in the interop test.
 */
export type OriginCheck = (request: ReceivedRequest) => Promise<void> | void;

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
        await check(request);
      } catch (error) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ origin_refused: String(error) }));
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
