/**
 * WebSocket proxy to the origin (RFC 6455). The gateway terminates the client's socket and opens
 * its own to the origin with the origin credential and signed identity, then relays message by
 * message so each client message can be policy-checked before the origin sees it. Binary frames
 * from the client are refused (close 1003): MCP speaks JSON text, and an unread frame could
 * carry a tool call past the check.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { GatewayError } from '../../http/errors';
import { originFetchError, prepareOrigin } from './forward';
import { jsonRpcRefusal, type McpInspection } from '../mcp-policy';

/** Close codes an endpoint may send (1005/1006/1015 are reserved for reporting only). */
function sendableCode(code: number | undefined): number {
  return code !== undefined && (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) ? code : 1000;
}

/** Opens the origin socket and returns the 101 response carrying the client's end. */
export async function proxyWebSocket(c: Context<AppEnv>, path: string, inspect: (text: string) => McpInspection): Promise<Response> {
  const { target, headers, timeoutMs, requestId } = await prepareOrigin(c, { method: 'GET', path }, { websocket: true });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res: Response;
  try {
    res = await fetch(target, { headers, signal: abort.signal });
  } catch (err) {
    throw originFetchError(err, abort.signal.aborted, timeoutMs, requestId);
  } finally {
    clearTimeout(timer);
  }
  const upstream = res.webSocket;
  if (!upstream) {
    await res.body?.cancel();
    throw new GatewayError('origin_unavailable', `The origin refused the WebSocket upgrade (${res.status})`);
  }
  upstream.accept();
  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  server.accept();

  server.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') {
      server.close(1003, 'text messages only');
      upstream.close(1000, 'client closed');
      return;
    }
    const r = inspect(ev.data);
    if (r.ok) upstream.send(r.message);
    else server.send(jsonRpcRefusal(r.id, r.error));
  });
  upstream.addEventListener('message', (ev) => server.send(ev.data));
  server.addEventListener('close', (ev) => upstream.close(sendableCode(ev.code), ev.reason));
  upstream.addEventListener('close', (ev) => server.close(sendableCode(ev.code), ev.reason));
  server.addEventListener('error', () => upstream.close(1011, 'client error'));
  upstream.addEventListener('error', () => server.close(1011, 'origin error'));
  return new Response(null, { status: 101, webSocket: client });
}
