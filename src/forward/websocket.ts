/**
 * A WebSocket authenticated by its subprotocol (the Kubernetes form, src/token/sources.ts): the origin gets
 * the offer without the bearer entry, and the browser gets a handshake it accepts. A browser that offered
 * protocols fails a 101 that names none of them (WHATWG WebSockets, "establish a WebSocket connection"); when the
 * bearer entry was all the client offered, the origin saw no offer and names none, so the gateway answers
 * with the one protocol offered: the entry itself, sent back to the client that sent it (never logged, never
 * to the origin). A protocol the origin chose passes through.
 */
import { WEBSOCKET_BEARER_PROTOCOL_PREFIX } from '../config/constants.ts';
import { protocolEntries } from '../token/sources.ts';

export function answerHandshake(response: Response, offered: string | null): Response {
  if (response.status !== 101 || offered === null || response.headers.has('sec-websocket-protocol')) return response;
  const entries = protocolEntries(offered);
  if (entries.length === 0 || !entries.every((entry) => entry.startsWith(WEBSOCKET_BEARER_PROTOCOL_PREFIX))) return response;
  const headers = new Headers(response.headers);
  headers.set('sec-websocket-protocol', entries[0]!);
  return new Response(null, { status: 101, headers, webSocket: response.webSocket });
}
