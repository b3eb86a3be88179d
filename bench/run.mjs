// npm run bench — crawlgate's cost per request, measured in one run as ratios to the floor.
//
// Starts a tiny fixed-response origin, the empty reference Worker (bench/empty-worker: header
// check + proxy), crawlgate (API key → rate limit → egress check → forward), and nginx configured
// like the seed's reverse-proxy guide when nginx is installed. Drives each with autocannon at fixed
// concurrency, interleaved rounds; through wrangler's dev proxy and straight at the user Worker's
// own workerd port. Scenarios: API key, JWT (from POST /token, renewed before it expires), the 401
// path (bad key) and the 429 path (a key over its limit). Reports min and median per row, flags a
// round whose p50 is over 2x the row's median, never turns a failed run into a figure, splits the
// CPU of the API-key path into the Worker's own JavaScript vs the local objects and D1
// (bench/cpu-split.mjs), and writes the table to bench/results/latest.md (bench/report.mjs).
// The Workers run without wrangler dev's DevTools inspector proxy (bench/dev-server.mjs says why);
// --inspector runs them under the plain `wrangler dev` CLI instead, to reproduce the collapse.
// Options: --duration S (default 8), --connections N (32), --rounds N (3), --inspector, --no-split.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBenchOrigin } from './origin.mjs';
import { ROOT, cpuSeconds, freePort, load, startWrangler } from './lib.mjs';
import { cpuSplit } from './cpu-split.mjs';
import { judgeRun, renderReport } from './report.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DURATION = arg('duration', 8);
const CONNECTIONS = arg('connections', 32);
const ROUNDS = arg('rounds', 3);
const INSPECTOR = process.argv.includes('--inspector');
const SPLIT = !process.argv.includes('--no-split');

const BENCH_KEY = 'sk-bench-Q8mZ2vK7pX4rT9wL3nB6cY1hD5fJ0gS';
const LIMITED_KEY = 'sk-bench-limited-Z4xC7vB0nM3aS6dF9gH2jK5lP8';
const JWT_KEY = 'sk-bench-jwt-H6jK9lZ2xC5vB8nM1aS4dF7gQ0w';
const BAD_KEY = 'cg_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAxxxxxx'; // wrong checksum: refused before any storage read
const BODY = JSON.stringify({
  urls: ['https://example.com/'],
  crawler_config: { type: 'CrawlerRunConfig', params: { cache_mode: 'bypass' } },
});
const JSON_HEADERS = { 'Content-Type': 'application/json', 'X-API-Key': BENCH_KEY };

function nginxAvailable() {
  return spawnSync('nginx', ['-v']).status === 0;
}

async function startNginx(originPort) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-nginx-'));
  const port = await freePort();
  // The seed's reverse-proxy guide: API-key map, limit_req zone, security headers, keepalive upstream.
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  map $http_x_api_key $api_key_valid { default 0; "${BENCH_KEY}" 1; }
  limit_req_zone $binary_remote_addr zone=api_limit:10m rate=1000000r/s;
  upstream origin { server 127.0.0.1:${originPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
    add_header X-Frame-Options "DENY" always;
    add_header X-Content-Type-Options "nosniff" always;
    add_header Referrer-Policy "strict-origin-when-cross-origin" always;
    location / {
      limit_req zone=api_limit burst=50 nodelay;
      if ($api_key_valid = 0) { return 401 '{"error":"Unauthorized"}'; }
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_pass http://origin;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return { base: `http://127.0.0.1:${port}`, pids: () => [child.pid], stop: () => child.kill('SIGTERM') };
}

const running = [];
function stopAll() {
  for (const r of running.splice(0)) r.stop();
}
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

/** The `exp` (seconds) of a JWT, read without verifying (the bench only needs to know when to renew). */
function jwtExpiry(token) {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp ?? 0;
  } catch {
    return 0;
  }
}

async function main() {
  const origin = await startBenchOrigin();
  const originUrl = `http://127.0.0.1:${origin.port}`;
  console.log(
    `origin on ${originUrl}; duration ${DURATION}s, ${CONNECTIONS} connections, ${ROUNDS} rounds${INSPECTOR ? ', under the wrangler dev CLI (inspector proxy on)' : ''}`,
  );

  const empty = await startWrangler({
    inspector: INSPECTOR,
    config: path.join(ROOT, 'bench/empty-worker/wrangler.toml'),
    vars: { ORIGIN_URL: originUrl, BENCH_KEY },
    probePath: '/constant',
  });
  running.push(empty);
  const gatewayVars = {
    ENVIRONMENT: 'development',
    ORIGIN_URL: originUrl,
    ORIGIN_SECRET: 'bench-origin-secret-9f8e7d6c5b4a3f2e1d0c9b8a',
    JWT_SECRET_KEY: 'bench-jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
    API_KEY_SALT: 'bench-api-key-salt-1f2e3d4c5b6a7f8e9d0c1b2a3f4e',
    // 30000/minute = 500/s: the highest limit kept on one object (higher limits are sharded,
    // docs/rate-limits.md), i.e. the ordinary key path.
    API_KEYS: JSON.stringify({
      bench: { key: BENCH_KEY, name: 'bench', rate_limit: '30000/minute', scopes: ['crawl'], max_concurrency: 10000 },
      limited: { key: LIMITED_KEY, name: 'limited', rate_limit: '1/hour', scopes: ['crawl'] },
      jwt: { key: JWT_KEY, name: 'jwt', rate_limit: '30000/minute', scopes: ['crawl'], max_concurrency: 10000 },
    }),
    IP_RATE_LIMIT: '999999999/minute',
    DEFAULT_RATE_LIMIT: '999999999/minute',
    ROUTE_RATE_LIMITS: JSON.stringify({ api: '999999999/second', playground: '999999999/second', health: '999999999/second' }),
    TRUSTED_HOSTS: '',
  };
  const gateway = await startWrangler({ inspector: INSPECTOR, config: path.join(ROOT, 'wrangler.toml'), migrate: true, vars: gatewayVars });
  running.push(gateway);
  const nginx = nginxAvailable() ? await startNginx(origin.port) : null;
  if (nginx) running.push(nginx);
  if (!nginx) console.log('nginx not installed (apt-get install -y nginx): its row is skipped');

  // A JWT for the bench key (Crawl4AI's POST /token), renewed before a run it could expire in.
  let jwt = '';
  const renewJwt = async () => {
    if (jwtExpiry(jwt) - Date.now() / 1000 > DURATION + 60) return;
    const tokenRes = await fetch(`${gateway.base}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ api_token: JWT_KEY }),
    });
    const { access_token: token } = await tokenRes.json();
    if (!token) throw new Error(`POST /token answered ${tokenRes.status}`);
    jwt = token;
  };
  await renewJwt();
  // The limited key's one allowed request.
  await (
    await fetch(`${gateway.base}/crawl`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': LIMITED_KEY },
      body: BODY,
    })
  ).text();
  const BAD_HEADERS = { 'Content-Type': 'application/json', 'X-API-Key': BAD_KEY };
  const LIMITED_HEADERS = { 'Content-Type': 'application/json', 'X-API-Key': LIMITED_KEY };

  const gw = (where, base, vs) => [
    {
      name: `crawlgate /crawl, API key (${where})`,
      url: `${base}/crawl`,
      method: 'POST',
      body: BODY,
      headers: JSON_HEADERS,
      pids: gateway.pids,
      vs,
    },
    {
      name: `crawlgate /crawl, JWT (${where})`,
      url: `${base}/crawl`,
      method: 'POST',
      body: BODY,
      get headers() {
        return { 'Content-Type': 'application/json', Authorization: `Bearer ${jwt}` };
      },
      before: renewJwt,
      pids: gateway.pids,
      vs,
    },
    {
      name: `crawlgate 401, bad key (${where})`,
      url: `${base}/crawl`,
      method: 'POST',
      body: BODY,
      headers: BAD_HEADERS,
      pids: gateway.pids,
      vs,
      expect: 401,
    },
    {
      name: `crawlgate 429, key over limit (${where})`,
      url: `${base}/crawl`,
      method: 'POST',
      body: BODY,
      headers: LIMITED_HEADERS,
      pids: gateway.pids,
      vs,
      expect: 429,
    },
  ];
  const dev = INSPECTOR ? 'wrangler dev' : 'dev proxy';
  const targets = [
    { name: 'origin direct', url: `${originUrl}/crawl`, method: 'POST', body: BODY, headers: JSON_HEADERS, pids: () => [] },
    nginx && {
      name: 'nginx (seed config)',
      url: `${nginx.base}/crawl`,
      method: 'POST',
      body: BODY,
      headers: JSON_HEADERS,
      pids: nginx.pids,
    },
    { name: `empty Worker, constant (${dev})`, url: `${empty.base}/constant`, pids: empty.pids },
    {
      name: `empty Worker, proxy (${dev})`,
      url: `${empty.base}/crawl`,
      method: 'POST',
      body: BODY,
      headers: JSON_HEADERS,
      pids: empty.pids,
      floor: 'proxy-dev',
    },
    ...gw(dev, gateway.base, 'proxy-dev'),
    empty.direct && {
      name: 'empty Worker, proxy (workerd port)',
      url: `${empty.direct}/crawl`,
      method: 'POST',
      body: BODY,
      headers: JSON_HEADERS,
      pids: empty.pids,
      floor: 'proxy-direct',
    },
    ...(gateway.direct ? gw('workerd port', gateway.direct, 'proxy-direct') : []),
  ].filter(Boolean);

  // Sanity: every target answers as expected before we measure it.
  for (const t of targets) {
    const r = await fetch(t.url, { method: t.method ?? 'GET', headers: t.headers, body: t.body });
    const text = await r.text();
    if (t.expect ? r.status !== t.expect : r.status >= 300) throw new Error(`${t.name} answered ${r.status}: ${text.slice(0, 300)}`);
  }

  // Each run starts with the Workers idle: background work left by the previous run (the audit
  // writer draining after a flood) would otherwise be billed to the next one.
  const quiesce = async (pids) => {
    if (!pids.length) return;
    const deadline = Date.now() + 60_000;
    let last = cpuSeconds(pids);
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const now = cpuSeconds(pids);
      if (now - last < 0.05) return;
      last = now;
    }
  };
  const results = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      await quiesce([...gateway.pids(), ...empty.pids()]);
      await t.before?.();
      const r = await load({
        url: t.url,
        method: t.method,
        headers: t.headers,
        body: t.body,
        connections: CONNECTIONS,
        duration: DURATION,
        cpuPids: t.pids,
      });
      judgeRun(r, t.expect, DURATION);
      results.set(t.name, [...(results.get(t.name) ?? []), r]);
      console.log(
        `round ${round}  ${t.name.padEnd(44)} ${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50, 1).padStart(6)}  p95 ${fmt(r.p95, 1).padStart(6)}  p99 ${fmt(r.p99, 1).padStart(6)} ms  unexpected ${r.unexpected}${r.failed ? `  NOT MEASURED: ${r.failed}` : ''}`,
      );
    }
  }

  let split = null;
  if (SPLIT && !INSPECTOR) {
    // A separate gateway with an inspector (its Network domain switched off), profiled on the
    // API-key path at its workerd port; the rows above ran without any inspector.
    const inspectorPort = await freePort();
    const profiled = await startWrangler({
      inspector: false,
      inspectorPort,
      config: path.join(ROOT, 'wrangler.toml'),
      migrate: true,
      vars: gatewayVars,
    });
    running.push(profiled);
    const url = `${profiled.direct ?? profiled.base}/crawl`;
    await (await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: BODY })).text();
    split = await cpuSplit({
      inspectorPort,
      pid: profiled.directPid,
      drive: async () =>
        (await load({ url, method: 'POST', headers: JSON_HEADERS, body: BODY, connections: CONNECTIONS, duration: DURATION })).total,
    });
    profiled.stop();
  }

  const table = renderReport({
    targets,
    results,
    split,
    rounds: ROUNDS,
    duration: DURATION,
    connections: CONNECTIONS,
    inspector: INSPECTOR,
  });
  console.log('\n' + table);
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results/latest.md'), table);
  console.log('written to bench/results/latest.md; crawlgate wrangler log:', gateway.logFile);

  stopAll();
  await origin.close();
}

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

main().catch((e) => {
  console.error(e);
  stopAll();
  process.exit(1);
});
