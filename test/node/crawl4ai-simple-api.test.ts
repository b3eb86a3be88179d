/**
 * Crawl4AI's own endpoint test (tests/docker/simple_api_test.py, its payloads kept as data in
 * fixtures/crawl4ai-simple-api-test.json, the URL switched to a local page) against crawlgate's edge
 * mode under `wrangler dev`, as a 0.7-era client drives it: `POST /token` with an API key, then
 * Bearer calls. Every call Crawl4AI 0.9 answers with 2xx answers 2xx here, except the LLM routes
 * (no LLM at the edge: 501 problem JSON); its error cases answer as 0.9 does (400 for the removed
 * `/config/dump` code form, 4xx for an invalid URL, 404 for an unknown path). `/mcp/schema` belongs
 * to the MCP work (issue of helper "mcp") and is only reported here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { TEST_VARS } from '../helpers/test-vars';
import { startDevServer, type DevServer } from '../helpers/wrangler-dev';

interface Call {
  method: 'GET' | 'POST';
  endpoint: string;
  payload?: unknown;
  crawl4ai_09: '2xx' | '400' | '404';
  group: '2xx' | 'llm' | '400' | '4xx' | '404' | 'mcp';
}

const FIXTURE = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures/crawl4ai-simple-api-test.json'), 'utf8')) as {
  calls: Call[];
};
const KEY = 'sk-simple-api-7Hq2Lm9Xv4Bn6Tc1Rz8Wk3Ys5';
const PAGE_HTML =
  '<!doctype html><html><head><title>Fixture page</title></head><body><main><h1>Fixture page</h1><p>Crawl4AI simple API test, served on loopback.</p></main></body></html>';

let server: DevServer | undefined;
let site: http.Server;
let page = '';
let token = '';
const outcomes: Array<{ call: string; status: number; matches09: boolean }> = [];

beforeAll(async () => {
  site = http.createServer((req, res) => {
    if (req.url === '/page') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(PAGE_HTML);
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  page = `http://127.0.0.1:${(site.address() as AddressInfo).port}/page`;
  const scopes = [
    'crawl:run',
    'crawl:screenshot',
    'crawl:pdf',
    'crawl:js',
    'crawl:llm',
    'crawl:proxy',
    'crawl:headers',
    'crawl:deep',
    'jobs:write',
    'jobs:read',
  ];
  const apiKeys = JSON.stringify({ every_crawl: { key: KEY, name: 'every crawl permission', rate_limit: '1000/minute', scopes } });
  server = await startDevServer({
    vars: { ...TEST_VARS, ENVIRONMENT: 'development', ALLOW_PRIVATE_TARGETS: 'true', TRUSTED_HOSTS: '', ORIGIN_URL: '', API_KEYS: apiKeys },
    persistPrefix: 'cg-c4ai-simple-',
    readyTimeoutMs: 240_000,
  });
  // The 0.7-era client's first step: exchange the API token for a JWT at /token.
  const res = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'test@example.com', api_token: KEY }),
  });
  expect(res.status).toBe(200);
  token = ((await res.json()) as { access_token: string }).access_token;
}, 300_000);

afterAll(async () => {
  server?.stop();
  site?.closeAllConnections();
  await new Promise((r) => site?.close(r));
  const matching = outcomes.filter((o) => o.matches09).length;
  console.log(
    `simple_api_test in edge mode: ${matching} of ${outcomes.length} calls answer as Crawl4AI 0.9 would; ${outcomes.map((o) => `${o.call} ${o.status}`).join(', ')}`,
  );
});

const filled = (v: unknown): unknown => JSON.parse(JSON.stringify(v).replaceAll('{{PAGE}}', page));

async function send(call: Call): Promise<Response> {
  const endpoint = call.endpoint.replaceAll('{{PAGE}}', page);
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (call.payload !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(server!.base + endpoint, {
    method: call.method,
    headers,
    ...(call.payload !== undefined ? { body: JSON.stringify(filled(call.payload)) } : {}),
  });
}

function classOf(status: number): string {
  return status >= 200 && status < 300 ? '2xx' : String(status);
}

describe("Crawl4AI simple_api_test payloads against crawlgate's edge mode", () => {
  it.each(FIXTURE.calls.map((c, i) => [`${i + 1}. ${c.method} ${c.endpoint.slice(0, 60)}`, c] as const))(
    '%s',
    async (label, call) => {
      const res = await send(call);
      const text = await res.text();
      outcomes.push({
        call: label.split(' ').slice(1, 3).join(' '),
        status: res.status,
        matches09: classOf(res.status) === call.crawl4ai_09,
      });
      switch (call.group) {
        case '2xx':
          expect(res.status, text.slice(0, 500)).toBeGreaterThanOrEqual(200);
          expect(res.status, text.slice(0, 500)).toBeLessThan(300);
          if (call.endpoint === '/md' && JSON.stringify(call.payload).includes('raw://'))
            expect(JSON.parse(text).markdown).toContain('Hello, World!');
          break;
        case 'llm': {
          expect(res.status).toBe(501);
          expect(res.headers.get('content-type')).toContain('application/problem+json');
          const p = JSON.parse(text) as { code: string; detail: string };
          expect(p.code).toBe('not_implemented');
          expect(p.detail).toMatch(/origin/i);
          break;
        }
        case '400':
          expect(res.status).toBe(400);
          expect(res.headers.get('content-type')).toContain('application/problem+json');
          break;
        case '4xx':
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(JSON.parse(text).detail).toBeTruthy();
          break;
        case '404':
          expect(res.status).toBe(404);
          break;
        case 'mcp':
          // Reported only: /mcp/schema at the edge is the MCP work's (see the file comment).
          break;
      }
    },
    120_000,
  );
});
