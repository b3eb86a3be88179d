/**
 * A local origin that behaves like the Crawl4AI 0.9 server (deploy/docker/server.py, job.py,
 * monitor_routes.py, async_configs.py's untrusted-input gate) for the workers tests of
 * test/crawl/crawl4ai-09.test.ts. Node http on 127.0.0.1; written for these tests, not copied.
 *  - refuses power fields in `browser_config` / `crawler_config` with 400 `{"detail": "field 'x' is
 *    not permitted on <Type> from an untrusted request"}`, like 0.9;
 *  - `/screenshot` and `/pdf` store an artifact and answer `artifact_id` + `url: /artifacts/{id}`;
 *    `GET /artifacts/{id}` serves it (to anyone holding the origin token — the gateway must guard);
 *  - `/llm/{url}`, `/llm/job(/{id})`, `/ask`, `/config/dump`, `/schema`, `/hooks/info`, `/monitor/*`.
 * Every request is recorded by its `X-Request-Id`: `GET /__last?request_id=<id>` → `{method, path,
 * headers, body}` or 404 when the origin never saw it.
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { RunningServer } from './origin-server';
import { TEST_VARS } from './test-vars';

const FORBIDDEN: Record<string, string[]> = {
  BrowserConfig: ['proxy', 'proxy_config', 'extra_args', 'user_data_dir', 'cdp_url', 'cookies', 'headers', 'init_scripts', 'storage_state'],
  CrawlerRunConfig: [
    'js_code',
    'js_code_before_wait',
    'c4a_script',
    'deep_crawl_strategy',
    'proxy_config',
    'session_id',
    'magic',
    'simulate_user',
  ],
};

type Json = Record<string, unknown>;

function paramsOf(v: unknown): Json {
  if (!v || typeof v !== 'object') return {};
  const o = v as Json;
  return (o.params && typeof o.params === 'object' ? o.params : o) as Json;
}

/** The 0.9 gate's refusal for a body, or null. */
function refusal(body: Json): string | null {
  for (const [slot, type] of [
    ['browser_config', 'BrowserConfig'],
    ['crawler_config', 'CrawlerRunConfig'],
  ] as const) {
    for (const key of Object.keys(paramsOf(body[slot]))) {
      if (FORBIDDEN[type]?.includes(key)) return `field '${key}' is not permitted on ${type} from an untrusted request`;
    }
  }
  return null;
}

export async function startCrawl4ai09Origin(): Promise<RunningServer> {
  const recorded = new Map<string, { method: string; path: string; headers: http.IncomingHttpHeaders; body: string; ws_frames?: number }>();
  const artifacts = new Map<string, { mime: string; data: Buffer }>();
  const tasks = new Set<string>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin.test');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json', Server: 'uvicorn' });
        res.end(JSON.stringify(v));
      };
      if (url.pathname === '/__last') {
        const r = recorded.get(url.searchParams.get('request_id') ?? '');
        return r ? json(200, r) : json(404, { detail: 'nothing recorded' });
      }
      // A public stylesheet for the edge tests of raw: HTML sub-requests (test/edge/raw-html-hooks.test.ts).
      if (url.pathname === '/__probe.css') {
        res.writeHead(200, { 'Content-Type': 'text/css' });
        return res.end('#probe { width: 123px; }');
      }
      const rid = String(req.headers['x-request-id'] ?? '');
      if (rid) recorded.set(rid, { method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body: text });
      // 0.9: `Authorization: Bearer <CRAWL4AI_API_TOKEN>` on every request (the gateway's ORIGIN_SECRET here).
      if (req.headers.authorization !== `Bearer ${TEST_VARS.ORIGIN_SECRET}`) return json(401, { detail: 'Not authenticated' });
      let body: Json = {};
      try {
        body = text ? (JSON.parse(text) as Json) : {};
      } catch {
        return json(422, { detail: 'invalid JSON' });
      }
      const refused = refusal(body);
      if (refused) return json(400, { detail: refused });
      const store = (mime: string, data: Buffer) => {
        const id = randomBytes(16).toString('hex');
        artifacts.set(id, { mime, data });
        return { artifact_id: id, url: `/artifacts/${id}`, mime, size: data.length };
      };
      const p = url.pathname;
      // A full-page screenshot answered in chunks with no Content-Length, its id after ~3 MB of data.
      if (p === '/screenshot' && String(body.url ?? '').includes('big-answer')) {
        const data = randomBytes(2_300_000).toString('base64');
        const tail = store('image/png', Buffer.from('iVBORw0KGgo=', 'base64'));
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
        res.write('{"success": true, "screenshot": "');
        for (let at = 0; at < data.length; at += 65_536) res.write(data.slice(at, at + 65_536));
        return res.end(`", "artifact_id": "${tail.artifact_id}", "url": "${tail.url}", "mime": "image/png"}`);
      }
      if (p === '/screenshot')
        return json(200, { success: true, screenshot: 'iVBORw0KGgo=', ...store('image/png', Buffer.from('iVBORw0KGgo=', 'base64')) });
      if (p === '/pdf') return json(200, { success: true, pdf: 'JVBERi0xLjQ=', ...store('application/pdf', Buffer.from('%PDF-1.4')) });
      const art = /^\/artifacts\/([0-9a-f]{32})$/.exec(p);
      if (art) {
        const a = artifacts.get(art[1] as string);
        if (!a) return json(404, { detail: 'Artifact not found' });
        res.writeHead(200, { 'Content-Type': a.mime, 'X-Content-Type-Options': 'nosniff' });
        return res.end(a.data);
      }
      if (p.startsWith('/llm/job/')) {
        const id = decodeURIComponent(p.slice('/llm/job/'.length));
        return tasks.has(id)
          ? json(200, { task_id: id, status: 'completed', result: { answer: 'forty-two' } })
          : json(404, { detail: 'Task not found' });
      }
      if (p === '/llm/job') {
        const id = `llm_${randomBytes(6).toString('hex')}`;
        tasks.add(id);
        return json(202, { task_id: id, status: 'processing', url: body.url });
      }
      if (p.startsWith('/llm/')) return json(200, { answer: `about ${decodeURIComponent(p.slice(5))}: ${url.searchParams.get('q')}` });
      if (p === '/ask') return json(200, { code_results: [{ text: 'class AsyncWebCrawler', score: 1 }], doc_results: [] });
      if (p === '/config/dump') return json(200, { type: body.type, params: body.params ?? {} });
      if (p === '/schema')
        return json(200, {
          browser: { type: 'BrowserConfig', params: { headless: true } },
          crawler: { type: 'CrawlerRunConfig', params: {} },
        });
      if (p === '/hooks/info') return json(200, { available_actions: { block_resources: {} }, usage: { field: 'hooks' }, from: 'origin' });
      if (p === '/monitor/requests') {
        return json(200, {
          active: [{ id: 'r1', endpoint: '/crawl', url: 'https://tenant-a.example/secret-page' }],
          completed: [{ id: 'r0', endpoint: '/md', url: 'https://tenant-b.example/private', note: 'see https://tenant-b.example/x' }],
        });
      }
      if (p === '/monitor/health') return json(200, { container: { memory_percent: 12 }, pool: { hot: 1 } });
      if (p.startsWith('/monitor/actions/') || p === '/monitor/stats/reset') return json(200, { success: true });
      if (p === '/crawl' || p === '/crawl/job' || p === '/md' || p === '/html') {
        if (p === '/crawl/job') return json(202, { task_id: `crawl_${randomBytes(6).toString('hex')}` });
        return json(200, { success: true, results: [], url: body.url ?? null });
      }
      json(404, { detail: 'Not Found' });
    });
  });
  // 0.9's /monitor/ws: pushes a snapshot (every tenant's URLs) at once and then every 200 ms; it
  // reads nothing from the client. Frames the client sent are counted in `/__last` as `ws_frames`.
  const sockets = new Set<Socket>();
  server.on('upgrade', (req, socket: Socket) => {
    const rid = String(req.headers['x-request-id'] ?? '');
    const record = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: '', ws_frames: 0 };
    if (rid) recorded.set(rid, record);
    const key = String(req.headers['sec-websocket-key'] ?? '');
    if (req.url !== '/monitor/ws' || !key || req.headers.authorization !== `Bearer ${TEST_VARS.ORIGIN_SECRET}`) return socket.destroy();
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    sockets.add(socket);
    const snapshot = JSON.stringify({
      timestamp: 1,
      health: { container: { memory_percent: 12 } },
      requests: { active: [{ id: 'r1', endpoint: '/crawl', url: 'https://tenant-b.example/private?token=1' }], completed: [] },
      errors: [{ message: 'timeout fetching https://tenant-b.example/slow' }],
    });
    const frame = () => {
      const out = Buffer.from(snapshot);
      const head = out.length < 126 ? Buffer.from([0x81, out.length]) : Buffer.from([0x81, 126, out.length >> 8, out.length & 0xff]);
      return Buffer.concat([head, out]);
    };
    socket.write(frame());
    const timer = setInterval(() => socket.write(frame()), 200);
    socket.on('data', (data: Buffer) => {
      // Only the first byte of each read is looked at: enough to count the small text frames the tests send.
      if (((data[0] as number) & 0x0f) === 1) record.ws_frames++;
      if (((data[0] as number) & 0x0f) === 8) socket.end(Buffer.from([0x88, 0x00]));
    });
    const stop = () => {
      clearInterval(timer);
      sockets.delete(socket);
    };
    socket.on('close', stop);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
