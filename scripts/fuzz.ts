/**
 * `npm run fuzz [-- --requests N] [--seed S] [--concurrency C] [--url http://127.0.0.1:PORT]`:
 * a bounded black-box run against `wrangler dev`. It starts the Worker on a free port on
 * 127.0.0.1 (fresh local D1, test secrets, a seed API key, a tiny local origin so crawl routes
 * forward instead of crawling), reads `/openapi.json`, and sends N malformed requests to every
 * route in it — bad JSON, wrong types, huge and deep values, bad encodings, odd methods and
 * headers, with and without a valid key. It prints the requests sent, the statuses seen, and
 * every 5xx with the request that caused it; the documented 502/503/504 (origin and limiter
 * unavailable, origin timeout) are counted apart. Then it checks `/health`. Exit code 1 on any
 * other 5xx or an unhealthy gateway. Deterministic for a seed (default 1).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_VARS } from '../test/helpers/test-vars';
import { makeRequest, type FuzzRequest, type Operation } from './fuzz-requests';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const REQUESTS = Number(arg('requests', '2000'));
const SEED = Number(arg('seed', '1'));
const CONCURRENCY = Number(arg('concurrency', '8'));
const KEY = 'sk-fuzz-all-scopes-7Hq2Lm9Xv4Rt8Bn3Kc6Wz1Pd5Qs';
const DOCUMENTED_5XX = new Set(['origin_unavailable', 'origin_timeout', 'limiter_unavailable', 'service_unavailable']);
const root = path.resolve(import.meta.dirname, '..');
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: 'true' };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A stand-in origin: answers every forwarded crawl at once, so the run exercises the gateway only. */
async function startOrigin(): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const stream = req.url?.startsWith('/crawl/stream');
      res.writeHead(200, { 'Content-Type': stream ? 'application/x-ndjson' : 'application/json' });
      res.end(stream ? '{"status":"completed"}\n' : '{"success":true,"results":[],"markdown":"","html":""}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function startGateway(originUrl: string): Promise<{ base: string; child: ChildProcess }> {
  const persist = mkdtempSync(path.join(tmpdir(), 'cg-fuzz-'));
  const migrate = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  const port = await freePort();
  // every permission but the browser ones (no Chromium launches from a fuzz run)
  const scopes = [
    'crawl:run',
    'jobs:write',
    'jobs:read',
    'keys:read',
    'keys:manage',
    'users:manage',
    'audit:read',
    'metrics:read',
    'playground:access',
  ];
  const apiKeys = JSON.stringify({ fuzz: { key: KEY, name: 'fuzz', rate_limit: '1000000/minute', scopes } });
  const vars = Object.entries({
    ...TEST_VARS,
    ENVIRONMENT: 'development',
    TRUSTED_HOSTS: '',
    API_KEYS: apiKeys,
    ORIGIN_URL: originUrl,
    IP_RATE_LIMIT: '1000000/minute',
    DEFAULT_RATE_LIMIT: '1000000/minute',
    ROUTE_RATE_LIMITS: '{"api":"100000/second","playground":"100000/second","health":"100000/second"}',
  }).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const child = spawn('npx', ['wrangler', 'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist, ...vars], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev did not start:\n${output}`)), 120_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.length > 100_000) output = output.slice(-50_000);
      if (/Ready on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`wrangler dev exited ${code}:\n${output}`)));
  });
  return { base: `http://127.0.0.1:${port}`, child };
}

function operations(doc: {
  paths: Record<string, Record<string, { requestBody?: unknown; parameters?: unknown[] }>>;
  components?: unknown;
}): Operation[] {
  const ops: Operation[] = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      ops.push({ path: p, method: method.toUpperCase(), requestBody: op.requestBody, parameters: op.parameters ?? [] });
    }
  }
  return ops;
}

function describe(r: FuzzRequest): string {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : `<${r.body.byteLength} bytes>`;
  const shown = body.length > 300 ? `${body.slice(0, 300)}… (${body.length} chars)` : body;
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${v.length > 80 ? `${v.slice(0, 80)}…(${v.length})` : v}`)
    .join('; ');
  return `${r.method} ${r.path.length > 200 ? `${r.path.slice(0, 200)}…` : r.path}  [${headers}]  ${JSON.stringify(shown)}`;
}

async function main(): Promise<void> {
  const external = arg('url', '');
  const origin = await startOrigin();
  let child: ChildProcess | null = null;
  let base = external;
  if (!base) {
    const started = await startGateway(origin.url);
    base = started.base;
    child = started.child;
  }
  const stop = () => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    origin.close();
  };
  process.on('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    const ops = operations(doc);
    console.log(`fuzz: ${REQUESTS} requests over ${ops.length} operations of ${base}/openapi.json, seed ${SEED}, ${CONCURRENCY} at a time`);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const documented = new Map<string, number>();
    let sent = 0;
    let networkErrors = 0;
    const t0 = Date.now();
    const worker = async () => {
      for (;;) {
        const n = sent++;
        if (n >= REQUESTS) return;
        const r = makeRequest(SEED * 1_000_003 + n, ops, doc, KEY);
        try {
          const res = await fetch(base + r.path, {
            method: r.method,
            headers: r.headers,
            body: r.body,
            redirect: 'manual',
            signal: AbortSignal.timeout(60_000),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) {
            let code = '';
            try {
              code = (JSON.parse(text) as { code?: string }).code ?? '';
            } catch {
              // not problem JSON
            }
            if ([502, 503, 504].includes(res.status) && DOCUMENTED_5XX.has(code))
              documented.set(`${res.status} ${code}`, (documented.get(`${res.status} ${code}`) ?? 0) + 1);
            else failures.push(`${res.status} ${code || text.slice(0, 120)}\n    ${describe(r)}`);
          }
        } catch (error) {
          networkErrors++;
          failures.push(`network error ${(error as Error).message}\n    ${describe(r)}`);
        }
        if ((n + 1) % 1000 === 0) console.log(`  ${n + 1} sent (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const health = await fetch(`${base}/health`)
      .then(async (r) => ({ status: r.status, body: await r.text() }))
      .catch((e: Error) => ({ status: 0, body: e.message }));
    console.log(`\nrequests sent: ${Math.min(sent, REQUESTS)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(
      `statuses seen: ${[...statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}`,
    );
    console.log(`documented 5xx (origin/limiter): ${documented.size ? [...documented].map(([k, n]) => `${k}×${n}`).join(' ') : 'none'}`);
    console.log(`other 5xx and network errors: ${failures.length}${networkErrors ? ` (${networkErrors} network)` : ''}`);
    for (const f of failures.slice(0, 50)) console.log(`  ${f}`);
    console.log(`health after: ${health.status} ${health.body.slice(0, 120)}`);
    process.exitCode = failures.length === 0 && health.status === 200 ? 0 : 1;
  } finally {
    stop();
  }
}

await main();
