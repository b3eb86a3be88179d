/**
 * A small Crawl4AI-shaped origin (Node http server on 127.0.0.1) for forwarding tests.
 *
 * It records every request it receives by its `X-Request-Id` (tests choose the id) and serves them
 * back at `GET /__last?request_id=<id>` → `{method, path, headers, body}`, so tests assert exactly
 * what the origin saw. Behaviour switches on the first target URL's host, so the gateway's own
 * paths stay Crawl4AI's:
 *   hang.example          → never answers (timeout test)
 *   redirect-away.example → 302 to another host;  redirect-home.example → 307 to /crawl/stream
 *   origin-401.example    → 401 (the origin refused the gateway's credential)
 * `/crawl/stream` sends its first NDJSON line, then waits for `GET /__release?request_id=<id>`
 * (or 30 s) before the rest, so a test can show the first line arrived before the origin finished.
 * Every answer carries Set-Cookie, Server and X-Powered-By for the gateway to strip.
 * `/mcp/ws` is a minimal RFC 6455 server (text frames only): it records the handshake headers and
 * every text message (`GET /__ws?request_id=<id>` → the messages as a JSON array) and echoes each
 * message back as `{"echo": <message>, "id": <its JSON-RPC id>}` — except a tool call naming a
 * `hold.example` URL, which gets no answer until a `notifications/cancelled` for its id arrives
 * (then `{"jsonrpc":"2.0","id":…,"result":{"released":true}}`; with `params.pad` the result also
 * carries that string repeated to ~3 MB, before the id), so tests can hold calls in flight.
 * `/mcp/messages/` answers 202 and writes the JSON-RPC answer (by id) on the session's `/mcp/sse`
 * stream while it is open (2 s), again except for `hold.example` calls.
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const LEAKY = { 'Set-Cookie': 'session=origin-secret-cookie; Path=/', Server: 'uvicorn', 'X-Powered-By': 'FastAPI' };

function crawlResult(url: string) {
  return {
    url,
    success: true,
    status_code: 200,
    html: '<html><body><h1>Hello</h1></body></html>',
    cleaned_html: '<h1>Hello</h1>',
    markdown: { raw_markdown: '# Hello', markdown_with_citations: '# Hello', references_markdown: '', fit_markdown: '# Hello' },
    links: { internal: [], external: [] },
    media: { images: [], videos: [], audios: [] },
    metadata: { title: 'Hello' },
    error_message: null,
    redirected_url: url,
    response_headers: {},
    screenshot: null,
    pdf: null,
  };
}

function json(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...LEAKY, ...extra });
  res.end(JSON.stringify(body));
}

export async function startOriginServer(): Promise<RunningServer> {
  const recorded = new Map<string, Recorded>();
  const releases = new Map<string, () => void>();
  const tasks = new Set<string>();
  const wsMessages = new Map<string, string[]>();
  const sseStreams = new Map<string, http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin.test');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (url.pathname === '/__ws') return json(res, 200, wsMessages.get(url.searchParams.get('request_id') ?? '') ?? []);
      const requestId = String(req.headers['x-request-id'] ?? '');
      if (!url.pathname.startsWith('/__') && requestId) {
        recorded.set(requestId, { method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body });
      }
      let parsed: { urls?: string[]; url?: string } = {};
      try {
        parsed = body ? JSON.parse(body) : {};
      } catch {
        parsed = {};
      }
      const first = parsed.urls?.[0] ?? parsed.url ?? '';
      const host = first ? new URL(first).hostname : '';

      if (url.pathname === '/__last') {
        const r = recorded.get(url.searchParams.get('request_id') ?? '');
        return r ? json(res, 200, r) : json(res, 404, { detail: 'nothing recorded' });
      }
      if (url.pathname === '/__release') {
        releases.get(url.searchParams.get('request_id') ?? '')?.();
        return json(res, 200, { released: true });
      }
      if (url.pathname === '/health') return json(res, 200, { status: 'ok' });
      if (host === 'hang.example') return; // never answer
      if (host === 'redirect-away.example') return json(res, 302, {}, { Location: 'https://elsewhere.example/steal' });
      if (host === 'redirect-home.example') return json(res, 307, {}, { Location: '/crawl/stream' });
      if (host === 'origin-401.example') return json(res, 401, { detail: 'Authentication required' }, { 'WWW-Authenticate': 'Bearer' });

      switch (url.pathname) {
        case '/crawl':
          return json(res, 200, { success: true, results: (parsed.urls ?? []).map(crawlResult), server_processing_time_s: 0.01 });
        case '/crawl/stream': {
          res.writeHead(200, {
            'Content-Type': 'application/x-ndjson',
            'Cache-Control': 'no-cache',
            Connection: 'keep-alive',
            'X-Stream-Status': 'active',
            ...LEAKY,
          });
          const urls = parsed.urls ?? [];
          res.write(JSON.stringify(crawlResult(urls[0] ?? '')) + '\n');
          const finish = () => {
            releases.delete(requestId);
            clearTimeout(timer);
            for (const u of urls.slice(1)) res.write(JSON.stringify(crawlResult(u)) + '\n');
            res.end(JSON.stringify({ status: 'completed' }) + '\n');
          };
          const timer = setTimeout(finish, 30_000); // longer than a test: a buffering gateway fails the test
          releases.set(requestId, finish);
          return;
        }
        case '/md':
          return json(res, 200, { url: parsed.url, filter: 'fit', query: null, cache: '0', markdown: '# Hello', success: true });
        case '/html':
          return json(res, 200, { html: '<h1>Hello</h1>', url: parsed.url, success: true });
        case '/screenshot':
          return json(res, 200, { success: true, screenshot: 'iVBORw0KGgo=' });
        case '/pdf':
          return json(res, 200, { success: true, pdf: 'JVBERi0xLjQ=' });
        case '/execute_js':
          return json(res, 200, { ...crawlResult(parsed.url ?? ''), js_execution_result: { results: [true] } });
        case '/crawl/job': {
          const id = `crawl_${randomBytes(6).toString('hex')}`;
          tasks.add(id);
          return json(res, 202, { task_id: id });
        }
        case '/mcp/schema':
          return json(res, 200, { tools: [{ name: 'crawl' }, { name: 'md' }], resources: [] });
        case '/mcp/sse': {
          const session = randomBytes(16).toString('hex');
          res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', ...LEAKY });
          res.write(`event: endpoint\ndata: /mcp/messages/?session_id=${session}\n\n`);
          sseStreams.set(session, res);
          setTimeout(() => {
            sseStreams.delete(session);
            res.end();
          }, 2_000);
          return;
        }
        case '/mcp/messages/': {
          res.writeHead(202, { 'Content-Type': 'text/plain', ...LEAKY });
          res.end('Accepted');
          // The answer goes out on the session's SSE stream (not for hold.example calls).
          const stream = sseStreams.get(url.searchParams.get('session_id') ?? '');
          let msg: { id?: unknown; params?: { arguments?: { url?: string } } } = {};
          try {
            msg = JSON.parse(body) ?? {};
          } catch {
            return;
          }
          if (stream && msg.id !== undefined && !String(msg.params?.arguments?.url ?? '').includes('hold.example')) {
            stream.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [] } })}\n\n`);
          }
          return;
        }
      }
      const job = /^\/crawl\/job\/([^/]+)$/.exec(url.pathname);
      if (job && req.method === 'GET') {
        const id = decodeURIComponent(job[1] as string);
        return tasks.has(id)
          ? json(res, 200, { task_id: id, status: 'completed', result: crawlResult('https://example.com/') })
          : json(res, 404, { detail: 'Task not found' });
      }
      json(res, 404, { detail: 'Not Found' });
    });
  });
  server.on('upgrade', (req, socket: Socket) => {
    const requestId = String(req.headers['x-request-id'] ?? '');
    if (requestId) recorded.set(requestId, { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: '' });
    const key = String(req.headers['sec-websocket-key'] ?? '');
    if (req.url !== '/mcp/ws' || !key) return socket.destroy();
    const accept = createHash('sha1')
      .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const seen: string[] = [];
    if (requestId) wsMessages.set(requestId, seen);
    const held = new Set<string>();
    const sendText = (text: string) => {
      const out = Buffer.from(text);
      let head: Buffer;
      if (out.length < 126) head = Buffer.from([0x81, out.length]);
      else if (out.length < 65_536) head = Buffer.from([0x81, 126, out.length >> 8, out.length & 0xff]);
      else {
        head = Buffer.alloc(10);
        head[0] = 0x81;
        head[1] = 127;
        head.writeBigUInt64BE(BigInt(out.length), 2);
      }
      socket.write(Buffer.concat([head, out]));
    };
    const onText = (text: string) => {
      seen.push(text);
      let msg: {
        id?: unknown;
        method?: string;
        params?: { arguments?: { url?: string; urls?: string[] }; requestId?: unknown; pad?: string };
      } = {};
      try {
        const v: unknown = JSON.parse(text);
        if (v && typeof v === 'object' && !Array.isArray(v)) msg = v as typeof msg;
      } catch {
        // not JSON: echoed as is
      }
      const args = msg.params?.arguments;
      const targets = [args?.url ?? '', ...(args?.urls ?? [])];
      if (msg.method === 'tools/call' && targets.some((u) => String(u).includes('hold.example'))) {
        held.add(JSON.stringify(msg.id));
        return;
      }
      if (msg.method === 'notifications/cancelled') {
        const key = JSON.stringify(msg.params?.requestId);
        // `pad` (a string, repeated to ~3 MB) makes the answer as large as a crawled page, id last.
        const pad = msg.params?.pad;
        const result = pad ? { released: true, text: pad.repeat(Math.ceil(3_000_000 / pad.length)) } : { released: true };
        if (held.delete(key)) sendText(JSON.stringify({ jsonrpc: '2.0', result, id: msg.params?.requestId }));
        return;
      }
      sendText(JSON.stringify('id' in msg ? { echo: text, id: msg.id } : { echo: text }));
    };
    let buf = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = (buf[0] as number) & 0x0f;
        let len = (buf[1] as number) & 0x7f;
        let offset = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          offset = 4;
        }
        const masked = ((buf[1] as number) & 0x80) !== 0;
        const maskAt = offset;
        if (masked) offset += 4;
        if (buf.length < offset + len) return;
        const payload = Buffer.from(buf.subarray(offset, offset + len));
        if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (buf[maskAt + (i % 4)] as number);
        buf = buf.subarray(offset + len);
        if (opcode === 8) {
          socket.end(Buffer.from([0x88, 0x00]));
          return;
        }
        if (opcode === 1) onText(payload.toString('utf8'));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const release of releases.values()) release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
