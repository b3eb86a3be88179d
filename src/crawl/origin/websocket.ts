/**
 * WebSocket proxy to the origin (RFC 6455). The gateway terminates the client's socket and opens
 * its own to the origin with the origin credential and signed identity, then relays message by
 * message so each client message is read, checked and re-serialised before the origin sees it
 * (mcp-policy.ts) and admitted (mcp-limits.ts: rate bucket and lease per tool call, released by the
 * origin's answer via `fromOrigin` or at `ended`). Bounds per socket: message size, messages
 * waiting for their check, idle time.
 * Binary frames close the socket (1003): MCP speaks JSON text, and an unread frame could carry a
 * tool call past the check. A client that keeps sending text the gateway cannot read is closed
 * with 1007 (invalid frame payload data).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { GatewayError } from '../../http/errors';
import { prepareOrigin } from './forward';
import { originFetchError } from './client';
import { jsonRpcRefusal, type McpInspection } from '../mcp-policy';

/** Per-socket bounds (docs/crawling.md "MCP"). */
export interface SocketLimits {
  maxMessageBytes: number;
  /** Client messages accepted but not yet checked and relayed; one more is refused. */
  maxInFlight: number;
  /** Silence (no message either way) after which both sockets are closed. */
  idleMs: number;
  /** Unreadable messages in a row after which the client socket is closed with 1007. */
  maxUnreadable: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = { maxMessageBytes: 1_048_576, maxInFlight: 8, idleMs: 300_000, maxUnreadable: 3 };

export interface RelayHandlers {
  /**
   * Checks (and admits) one client message. Without it the socket is server-push only (the
   * Crawl4AI monitor): client text is read within the size bound and goes nowhere.
   */
  inspect?: (text: string) => Promise<McpInspection> | McpInspection;
  /** Called for each refused message (audit). */
  refused: (r: Extract<McpInspection, { ok: false }>) => void;
  /** Sees each origin → client message (releases the leases of answered tool calls). */
  fromOrigin?: (data: string | ArrayBuffer) => void;
  /** Rewrites each origin → client message before it is sent (null: dropped), e.g. URL redaction. */
  toClient?: (data: string | ArrayBuffer) => string | ArrayBuffer | null;
  /** Called once when the relay ends (either side closed, errored or went idle). */
  ended?: () => void;
}

/** Close codes an endpoint may send (1005/1006/1015 are reserved for reporting only). */
function sendableCode(code: number | undefined): number {
  return code !== undefined &&
    (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
    ? code
    : 1000;
}

/** Opens the origin socket and returns the 101 response carrying the client's end. */
export async function proxyWebSocket(
  c: Context<AppEnv>,
  path: string,
  handlers: RelayHandlers,
  limits: SocketLimits = DEFAULT_SOCKET_LIMITS,
): Promise<Response> {
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

  let closed = false;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    handlers.ended?.();
  };
  const closeBoth = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(idle);
    end();
    server.close(code, reason);
    upstream.close(code === 1007 || code === 1009 ? 1000 : sendableCode(code), 'client closed');
  };
  let idle = setTimeout(() => closeBoth(1000, 'idle'), limits.idleMs);
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => closeBoth(1000, 'idle'), limits.idleMs);
  };

  // Messages are checked one after another, so they reach the origin in the order they were sent.
  let queue: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let unreadable = 0;
  const refuse = (r: Extract<McpInspection, { ok: false }>, extra: Record<string, unknown> = {}) => {
    handlers.refused(r);
    if (!closed) server.send(jsonRpcRefusal(r.id, r.error, r.rpcCode, extra));
  };

  server.addEventListener('message', (ev) => {
    touch();
    if (typeof ev.data !== 'string') return closeBoth(1003, 'text messages only');
    if (ev.data.length > limits.maxMessageBytes || new TextEncoder().encode(ev.data).byteLength > limits.maxMessageBytes) {
      return closeBoth(1009, `messages are limited to ${limits.maxMessageBytes} bytes`);
    }
    const inspect = handlers.inspect;
    if (!inspect) return; // a server-push socket: nothing a client sends reaches the origin
    if (inFlight >= limits.maxInFlight) {
      const err = new GatewayError('concurrency_limited', `At most ${limits.maxInFlight} messages may wait for their check on one socket`);
      return refuse({ ok: false, error: err, id: null, rpcCode: -32001 });
    }
    const text = ev.data;
    inFlight++;
    queue = queue.then(async () => {
      try {
        const r = await inspect(text);
        if (closed) return;
        if (r.ok) {
          unreadable = 0;
          upstream.send(r.message);
          return;
        }
        const retry = r.error.headers?.['Retry-After'];
        refuse(r, retry ? { retry_after: Number(retry) } : {});
        if (r.rpcCode === -32700 && ++unreadable >= limits.maxUnreadable) closeBoth(1007, 'unreadable messages');
      } catch (err) {
        console.error('mcp relay: checking a message failed', { error: String(err) });
        closeBoth(1011, 'internal error');
      } finally {
        inFlight--;
      }
    });
  });
  upstream.addEventListener('message', (ev) => {
    touch();
    handlers.fromOrigin?.(ev.data);
    const out = handlers.toClient ? handlers.toClient(ev.data) : ev.data;
    if (!closed && out !== null) server.send(out);
  });
  server.addEventListener('close', (ev) => {
    closed = true;
    clearTimeout(idle);
    end();
    upstream.close(sendableCode(ev.code), ev.reason);
  });
  upstream.addEventListener('close', (ev) => {
    end();
    if (!closed) {
      closed = true;
      clearTimeout(idle);
      server.close(sendableCode(ev.code), ev.reason);
    }
  });
  server.addEventListener('error', () => closeBoth(1011, 'client error'));
  upstream.addEventListener('error', () => closeBoth(1011, 'origin error'));
  return new Response(null, { status: 101, webSocket: client });
}
