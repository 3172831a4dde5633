/**
 * The benchmark's origin, run as its own process so that it does not share the load generator's event loop:
 * reads the whole body and answers a small JSON document, like a cheap API endpoint.
 * Usage: node bench/lib/origin.ts <port>   (prints "ready" when listening; stops on SIGTERM)
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const body = JSON.stringify({ ok: true });
const server = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-body-bytes': String(bytes) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
