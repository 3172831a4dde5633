/**
 * A request body of several MiB goes through the gateway to the origin unchanged and is not buffered.
 *
 * How this shows non-buffering: the client body is a ReadableStream that makes each 64 KiB chunk only when
 * it is pulled (highWaterMark 0), counting how many it has made. The origin stands in behind fetch and reads
 * the body chunk by chunk; when its first chunk arrives it notes how many chunks the client has made so
 * far. A gateway that read the body before calling the origin (await request.arrayBuffer(), text(),
 * a tee into memory) would have pulled all 128 chunks before the origin saw its first one. We require fewer
 * than half; in practice it is a handful (stream plumbing reads a little ahead).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gatewayFor, send } from '../helpers/gateway.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const CHUNK = 64 * 1024;
const CHUNKS = 128; // 8 MiB
let world: OutsideWorld;
let logs: RecordCapture;
let made = 0;
let madeAtOriginFirstChunk = -1;

/** Deterministic, non-repeating-looking bytes for chunk i. */
function chunk(i: number): Uint8Array {
  const bytes = new Uint8Array(CHUNK);
  let x = (i + 1) * 2654435761;
  for (let j = 0; j < CHUNK; j++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[j] = x >>> 24;
  }
  return bytes;
}

function lazyBody(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (made === CHUNKS) return controller.close();
        controller.enqueue(chunk(made++));
      },
    },
    { highWaterMark: 0 },
  );
}

async function sha256Hex(stream: ReadableStream<Uint8Array>, onFirstChunk = () => {}): Promise<{ hex: string; bytes: number }> {
  const digest = new crypto.DigestStream('SHA-256');
  const writer = digest.getWriter();
  const reader = stream.getReader();
  let bytes = 0;
  for (let first = true; ; first = false) {
    const { done, value } = await reader.read();
    if (done) break;
    if (first) onFirstChunk();
    bytes += value.byteLength;
    await writer.write(value);
  }
  await writer.close();
  const hex = [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { hex, bytes };
}

let received: { hex: string; bytes: number } | undefined;

beforeAll(() => {
  world = new OutsideWorld()
    .originHandler('origin.example', async (request) => {
      received = await sha256Hex(request.body!, () => (madeAtOriginFirstChunk = made));
      return Response.json(received);
    })
    .install();
  logs = new RecordCapture();
});
afterAll(() => {
  world.restore();
  logs.restore();
});

it('streams an 8 MiB body through unchanged (SHA-256 compared) without reading it first', async () => {
  const gateway = gatewayFor({ routes: { upload: { path: '/upload', mode: 'public', origin: 'https://origin.example' } } });
  const request = new Request('https://gw.example/upload', { method: 'POST', body: lazyBody(), duplex: 'half' } as RequestInit);
  const response = await send(gateway, request);
  expect(response.status).toBe(200);

  made = 0;
  const expected = await sha256Hex(lazyBody());
  expect(received).toEqual(expected);
  expect(expected.bytes).toBe(CHUNK * CHUNKS);
  expect(madeAtOriginFirstChunk).toBeGreaterThan(0);
  expect(madeAtOriginFirstChunk).toBeLessThan(CHUNKS / 2);
});
