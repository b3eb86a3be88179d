// npm run bench — crawlgate's cost per request, measured in one run as ratios to the floor.
//
// Starts a tiny fixed-response origin, the empty reference Worker (bench/empty-worker: header
// check + proxy), crawlgate (API key → rate limit → egress check → forward), and nginx configured
// like the seed's reverse-proxy guide when nginx is installed. Drives each with autocannon at fixed
// concurrency, interleaved, two rounds; through `wrangler dev` and straight at the user Worker's
// own workerd port. Prints req/s, p50/p99 latency, CPU ms per request of the Worker's processes,
// and the ratios. Options: --duration S (default 8), --connections N (default 32), --rounds N (2).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBenchOrigin } from './origin.mjs';
import { ROOT, freePort, load, startWrangler } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DURATION = arg('duration', 8);
const CONNECTIONS = arg('connections', 32);
const ROUNDS = arg('rounds', 2);

const BENCH_KEY = 'sk-bench-Q8mZ2vK7pX4rT9wL3nB6cY1hD5fJ0gS';
const BODY = JSON.stringify({ urls: ['https://example.com/'], crawler_config: { type: 'CrawlerRunConfig', params: { cache_mode: 'bypass' } } });
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

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

const running = [];
function stopAll() {
  for (const r of running.splice(0)) r.stop();
}
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

async function main() {
  const origin = await startBenchOrigin();
  const originUrl = `http://127.0.0.1:${origin.port}`;
  console.log(`origin on ${originUrl}; duration ${DURATION}s, ${CONNECTIONS} connections, ${ROUNDS} rounds`);

  const empty = await startWrangler({
    config: path.join(ROOT, 'bench/empty-worker/wrangler.toml'),
    vars: { ORIGIN_URL: originUrl, BENCH_KEY },
    probePath: '/constant',
  });
  running.push(empty);
  const gateway = await startWrangler({
    config: path.join(ROOT, 'wrangler.toml'),
    migrate: true,
    vars: {
      ENVIRONMENT: 'development',
      ORIGIN_URL: originUrl,
      ORIGIN_SECRET: 'bench-origin-secret-9f8e7d6c5b4a3f2e1d0c9b8a',
      JWT_SECRET_KEY: 'bench-jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
      API_KEY_SALT: 'bench-api-key-salt-1f2e3d4c5b6a7f8e9d0c1b2a3f4e',
      API_KEYS: JSON.stringify({ bench: { key: BENCH_KEY, name: 'bench', rate_limit: '999999999/minute', scopes: ['crawl'], max_concurrency: 10000 } }),
      IP_RATE_LIMIT: '999999999/minute',
      DEFAULT_RATE_LIMIT: '999999999/minute',
      ROUTE_RATE_LIMITS: JSON.stringify({ api: '999999999/second', playground: '999999999/second', health: '999999999/second' }),
      TRUSTED_HOSTS: '',
    },
  });
  running.push(gateway);
  const nginx = nginxAvailable() ? await startNginx(origin.port) : null;
  if (nginx) running.push(nginx);
  if (!nginx) console.log('nginx not installed (apt-get install -y nginx): its row is skipped');

  const targets = [
    { name: 'origin direct', url: `${originUrl}/crawl`, method: 'POST', body: BODY, headers: JSON_HEADERS, pids: () => [] },
    nginx && { name: 'nginx (seed config)', url: `${nginx.base}/crawl`, method: 'POST', body: BODY, headers: JSON_HEADERS, pids: nginx.pids },
    { name: 'empty Worker, constant (wrangler dev)', url: `${empty.base}/constant`, pids: empty.pids },
    { name: 'empty Worker, proxy (wrangler dev)', url: `${empty.base}/crawl`, method: 'POST', body: BODY, headers: JSON_HEADERS, pids: empty.pids, floor: 'proxy-dev' },
    { name: 'crawlgate /crawl (wrangler dev)', url: `${gateway.base}/crawl`, method: 'POST', body: BODY, headers: JSON_HEADERS, pids: gateway.pids, vs: 'proxy-dev' },
    empty.direct && { name: 'empty Worker, proxy (workerd port)', url: `${empty.direct}/crawl`, method: 'POST', body: BODY, headers: JSON_HEADERS, pids: empty.pids, floor: 'proxy-direct' },
    gateway.direct && { name: 'crawlgate /crawl (workerd port)', url: `${gateway.direct}/crawl`, method: 'POST', body: BODY, headers: JSON_HEADERS, pids: gateway.pids, vs: 'proxy-direct' },
  ].filter(Boolean);

  // Sanity: every target answers 2xx before we measure it.
  for (const t of targets) {
    const r = await fetch(t.url, { method: t.method ?? 'GET', headers: t.headers, body: t.body });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${t.name} answered ${r.status}: ${text.slice(0, 300)}`);
  }

  const results = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const r = await load({ url: t.url, method: t.method, headers: t.headers, body: t.body, connections: CONNECTIONS, duration: DURATION, cpuPids: t.pids });
      results.set(t.name, [...(results.get(t.name) ?? []), r]);
      console.log(`round ${round}  ${t.name.padEnd(40)} ${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50, 1).padStart(6)} ms  p99 ${fmt(r.p99, 1).padStart(6)} ms  non-2xx ${r.non2xx}`);
    }
  }

  const best = (name) => {
    const rs = results.get(name) ?? [];
    return rs.reduce((a, b) => (b.rps > (a?.rps ?? 0) ? b : a), null);
  };
  const floors = Object.fromEntries(targets.filter((t) => t.floor).map((t) => [t.floor, best(t.name)]));
  console.log('\nbest of rounds');
  console.log('target'.padEnd(40), 'req/s'.padStart(8), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'CPU ms/req'.padStart(11), 'vs floor'.padStart(9));
  for (const t of targets) {
    const r = best(t.name);
    const floor = t.vs ? floors[t.vs] : null;
    const ratio = floor ? `${fmt((r.rps / floor.rps) * 100)}%` : '';
    console.log(t.name.padEnd(40), fmt(r.rps).padStart(8), fmt(r.p50, 1).padStart(8), fmt(r.p99, 1).padStart(8), fmt(r.cpuMsPerReq, 2).padStart(11), ratio.padStart(9));
  }

  stopAll();
  await origin.close();
}

main().catch((e) => {
  console.error(e);
  stopAll();
  process.exit(1);
});
