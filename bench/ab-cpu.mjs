// A/B of CPU per request on the API-key path, for judging one change on a busy machine.
//
// Starts crawlgate from two checkouts (e.g. a detached worktree of main and this branch) side by
// side, without wrangler's inspector proxy, and drives `POST /crawl` (API key) at each one's own
// workerd port in interleaved rounds (A, B, A, B, ...). Reports per round the CPU of the workerd
// process per request (the Worker, its local objects and the D1/KV simulators: the same process) —
// a count that the machine's load moves far less than req/s — and with --split the CPU split of
// bench/cpu-split.mjs (Worker's own JavaScript vs local objects vs GC) for each side.
// Usage: node bench/ab-cpu.mjs --a /path/to/base --b /path/to/branch [--rounds 3] [--duration 5]
//        [--connections 8] [--split]
import path from 'node:path';
import { startBenchOrigin } from './origin.mjs';
import { cpuSeconds, freePort, startWrangler } from './lib.mjs';
import { cpuSplit } from './cpu-split.mjs';
import autocannon from 'autocannon';

const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ROOTS = { A: path.resolve(opt('a', '.')), B: path.resolve(opt('b', '.')) };
const ROUNDS = Number(opt('rounds', 3));
const DURATION = Number(opt('duration', 5));
const CONNECTIONS = Number(opt('connections', 8));
const SPLIT = process.argv.includes('--split');

const KEY = 'sk-bench-Q8mZ2vK7pX4rT9wL3nB6cY1hD5fJ0gS';
const BODY = JSON.stringify({
  urls: ['https://example.com/'],
  crawler_config: { type: 'CrawlerRunConfig', params: { cache_mode: 'bypass' } },
});
const HEADERS = { 'Content-Type': 'application/json', 'X-API-Key': KEY };

const vars = (originUrl) => ({
  ENVIRONMENT: 'development',
  ORIGIN_URL: originUrl,
  ORIGIN_SECRET: 'bench-origin-secret-9f8e7d6c5b4a3f2e1d0c9b8a',
  JWT_SECRET_KEY: 'bench-jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
  API_KEY_SALT: 'bench-api-key-salt-1f2e3d4c5b6a7f8e9d0c1b2a3f4e',
  API_KEYS: JSON.stringify({ bench: { key: KEY, name: 'bench', rate_limit: '30000/minute', scopes: ['crawl'], max_concurrency: 10000 } }),
  IP_RATE_LIMIT: '999999999/minute',
  DEFAULT_RATE_LIMIT: '999999999/minute',
  ROUTE_RATE_LIMITS: JSON.stringify({ api: '999999999/second', playground: '999999999/second', health: '999999999/second' }),
  TRUSTED_HOSTS: '',
});

async function drive(url) {
  const r = await autocannon({ url, method: 'POST', headers: HEADERS, body: BODY, connections: CONNECTIONS, duration: DURATION });
  return { total: r.requests.total, bad: r.non2xx + r.errors + r.timeouts };
}

async function quiesce(pid) {
  let last = cpuSeconds([pid]);
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = cpuSeconds([pid]);
    if (now - last < 0.03) return;
    last = now;
  }
}

const origin = await startBenchOrigin();
const originUrl = `http://127.0.0.1:${origin.port}`;
const servers = {};
try {
  for (const side of ['A', 'B']) {
    const inspectorPort = SPLIT ? await freePort() : undefined;
    const s = await startWrangler({
      inspector: false,
      inspectorPort,
      config: path.join(ROOTS[side], 'wrangler.toml'),
      migrate: true,
      vars: vars(originUrl),
    });
    servers[side] = { ...s, inspectorPort, url: `${s.direct ?? s.base}/crawl` };
    // Warm up: first requests compile, import keys, create objects.
    for (let i = 0; i < 20; i++) await (await fetch(servers[side].url, { method: 'POST', headers: HEADERS, body: BODY })).text();
  }
  const rows = { A: [], B: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const side of round % 2 ? ['A', 'B'] : ['B', 'A']) {
      const s = servers[side];
      await quiesce(s.directPid);
      const before = cpuSeconds([s.directPid]);
      const { total, bad } = await drive(s.url);
      await quiesce(s.directPid); // background work of these requests (audit drain, releases) counts too
      const ms = ((cpuSeconds([s.directPid]) - before) * 1000) / Math.max(1, total);
      rows[side].push(ms);
      console.log(
        `round ${round} ${side}: ${(total / DURATION).toFixed(0)} req/s, ${ms.toFixed(2)} ms CPU/req (workerd process)${bad ? `, ${bad} bad` : ''}  load ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
      );
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(
    `median CPU ms/req: A ${med(rows.A).toFixed(2)}  B ${med(rows.B).toFixed(2)}  (B/A ${(med(rows.B) / med(rows.A)).toFixed(2)})`,
  );
  if (SPLIT) {
    for (const side of ['A', 'B']) {
      const s = servers[side];
      await quiesce(s.directPid);
      const r = await cpuSplit({ inspectorPort: s.inspectorPort, pid: s.directPid, drive: async () => (await drive(s.url)).total });
      console.log(
        `split ${side}: worker ${(r.shares.worker * 100).toFixed(0)}% objects ${(r.shares.objects * 100).toFixed(0)}% gc ${(r.shares.gc * 100).toFixed(0)}%; sampled busy ${r.isolateBusyMs.toFixed(2)} ms/req, main thread ${r.mainThreadMs.toFixed(2)} ms/req`,
      );
      for (const [k, v] of r.topWorker.slice(0, Number(opt('top', 12)))) console.log(`   ${v.toFixed(3)} ms  ${k}`);
    }
  }
} finally {
  for (const s of Object.values(servers)) s.stop();
  await origin.close();
}
