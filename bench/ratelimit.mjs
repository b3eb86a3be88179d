#!/usr/bin/env node
/**
 * Rate-limiter throughput through `wrangler dev` (plain Node, no dependencies):
 *   npm run bench:ratelimit [-- --seconds 10 --concurrency 32 --port 8799]
 * Starts the Worker with bench-only vars and random bench-only secrets, then prints decisions per
 * second (every answer, allowed or refused, is one limiter decision) for:
 *   1. one hot key, under its limit      — every request is a round trip to the same RateLimiter object
 *   2. many keys (1,000 client IPs)      — requests spread over many (already created) objects
 *   3. one hot key, over its limit       — refusals answered from the isolate's refusal cache
 * and, as a baseline, the same Worker answering CORS preflights (which skip the limiter).
 * Figures from a laptop-class `wrangler dev` are a floor, not Cloudflare's production numbers: the
 * load generator, workerd and the local SQLite share the same cores.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const SECONDS = Number(args.seconds ?? 8);
const CONCURRENCY = Number(args.concurrency ?? 32);
const root = path.resolve(import.meta.dirname, '..');

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const secret = () => randomBytes(32).toString('base64url');
const vars = {
  ENVIRONMENT: 'development',
  JWT_SECRET_KEY: secret(),
  API_KEY_SALT: secret(),
  TRUSTED_HOSTS: '',
  IP_RATE_LIMIT: '100000000/minute',
  // api zone: effectively unlimited (measures allowed decisions); health zone: 10 r/s (measures refusals).
  ROUTE_RATE_LIMITS: JSON.stringify({ api: '1000000/second', playground: '1/hour', health: '10/second;burst=20' }),
};

async function startWorker() {
  const port = Number(args.port ?? (await freePort()));
  const persist = mkdtempSync(path.join(tmpdir(), 'cg-bench-'));
  const flags = Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const child = spawn('npx', ['wrangler', 'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist, ...flags], {
    cwd: root,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev did not start:\n${output}`)), 120_000);
    const onData = (d) => {
      output += d.toString();
      if (/Ready on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`wrangler dev exited ${code}:\n${output}`)));
  });
  return { base: `http://127.0.0.1:${port}`, stop: () => process.kill(-child.pid, 'SIGTERM') };
}

/** Runs `CONCURRENCY` loops for `SECONDS`; returns decisions/s and the status mix. */
async function run(base, pathname, ipFor, method = 'GET') {
  const deadline = Date.now() + SECONDS * 1000;
  const statuses = {};
  let n = 0;
  let i = 0;
  const loop = async () => {
    while (Date.now() < deadline) {
      const res = await fetch(base + pathname, { method, headers: { 'CF-Connecting-IP': ipFor(i++) } });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      n++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return { perSecond: Math.round(n / ((Date.now() - started) / 1000)), statuses };
}

const ipOf = (k) => `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;

const worker = await startWorker();
try {
  // Sanity: the limiter keys on CF-Connecting-IP under wrangler dev too (else "many keys" would be one
  // key): the playground zone (1/hour) admits one request per address.
  const probe = async (ip) => (await fetch(`${worker.base}/playground`, { headers: { 'CF-Connecting-IP': ip } })).status;
  const keyed = [await probe('203.0.113.200'), await probe('203.0.113.200'), await probe('203.0.113.201')];
  console.log(`worker up at ${worker.base}; per-IP keying check (expect 404,429,404): ${keyed.join(',')}`);
  // Warm-up: JIT, and create the 1,000 objects of scenario 2 (locally each object is a new SQLite file).
  for (let k = 0; k < 1_000; k += CONCURRENCY) {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, (_, j) =>
        fetch(`${worker.base}/bench`, { headers: { 'CF-Connecting-IP': ipOf(k + j) } }).then((r) => r.arrayBuffer()),
      ),
    );
  }
  const scenarios = [
    ['baseline: same Worker, no limiter (OPTIONS)', '/bench', () => '203.0.113.5', 'OPTIONS'],
    ['one hot key, under its limit', '/bench', () => '203.0.113.7'],
    ['many keys (1,000 IPs)', '/bench', (k) => ipOf(k % 1_000)],
    ['one hot key, over its limit (refusal cache)', '/health', () => '203.0.113.9'],
  ];
  console.log(`\n${SECONDS} s each, ${CONCURRENCY} concurrent connections\n`);
  for (const [label, pathname, ipFor, method] of scenarios) {
    const r = await run(worker.base, pathname, ipFor, method);
    console.log(`${label.padEnd(46)} ${String(r.perSecond).padStart(6)} decisions/s   statuses ${JSON.stringify(r.statuses)}`);
  }
} finally {
  worker.stop();
}
