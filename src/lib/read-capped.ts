/**
 * A body read whole but never past `limit` bytes: what the gateway reads itself (an issuer's JWKS, a
 * urlencoded form it must check) is small by nature, and a larger one is refused without being read whole.
 */

/** The bytes of `body`, or null when its declared or actual length is over `limit` (the stream is then cancelled). */
export async function readCapped(body: ReadableStream<Uint8Array> | null, headers: Headers, limit: number): Promise<Uint8Array | null> {
  if (Number(headers.get('content-length')) > limit) {
    await body?.cancel();
    return null;
  }
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
