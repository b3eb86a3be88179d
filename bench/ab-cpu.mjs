// A/B of CPU per request on the API-key path, for judging one change on a busy machine.
//
// Starts crawlgate from two checkouts (e.g. a detached worktree of main and this branch) side by
// side, without wrangler's inspector proxy, and drives `POST /crawl` (API key) at each one's own
// workerd port in interleaved rounds (A, B, A, B, ...). Reports per round the CPU of the workerd
// process per request (the Worker, its local objects and the D1/KV simulators: the same process) —
// a count that the machine's load moves far less than req/s — and with --split the CPU split of
// bench/cpu-split.mjs (Worker's own JavaScript vs local objects vs GC) for each side. With --floor
// the same rounds also drive the empty Worker (bench/empty-worker: the bench's floor) and the
// round-trip floor (bench/floor-worker: the empty Worker plus one KV read and one Durable Object
// call), so one run shows what crawlgate costs above the storage round trips it must make.
// Usage: node bench/ab-cpu.mjs --a /path/to/base --b /path/to/branch [--rounds 3] [--duration 5]
//        [--connections 8] [--split] [--floor]
import path from 'node:path';
import { startBenchOrigin } from './origin.mjs';
import { ROOT, cpuSeconds, freePort, startWrangler } from './lib.mjs';
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
const FLOOR = process.argv.includes('--floor');

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
  }
  if (FLOOR) {
    for (const [side, dir] of [
      ['empty', 'bench/empty-worker'],
      ['floor', 'bench/floor-worker'],
    ]) {
      const s = await startWrangler({
        inspector: false,
        config: path.join(ROOT, dir, 'wrangler.toml'),
        vars: { ORIGIN_URL: originUrl, BENCH_KEY: KEY },
        probePath: '/health',
      });
      servers[side] = { ...s, url: `${s.direct ?? s.base}/crawl` };
    }
    // The same floor Worker, one round trip at a time.
    servers['floor, KV read only'] = { ...servers.floor, url: servers.floor.url.replace(/\/crawl$/, '/kv-only/crawl') };
    servers['floor, DO call only'] = { ...servers.floor, url: servers.floor.url.replace(/\/crawl$/, '/do-only/crawl') };
  }
  const sides = Object.keys(servers);
  for (const side of sides) {
    // Warm up: first requests compile, import keys, create objects.
    for (let i = 0; i < 20; i++) await (await fetch(servers[side].url, { method: 'POST', headers: HEADERS, body: BODY })).text();
  }
  const rows = Object.fromEntries(sides.map((s) => [s, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const side of round % 2 ? sides : [...sides].reverse()) {
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
  if (FLOOR) {
    const e = med(rows.empty);
    const f = med(rows.floor);
    const kv = med(rows['floor, KV read only']);
    const dobj = med(rows['floor, DO call only']);
    console.log(
      `median CPU ms/req: empty Worker ${e.toFixed(2)}, round-trip floor (empty + 1 KV read + 1 DO call) ${f.toFixed(2)} = ${(f / e).toFixed(2)}x empty ` +
        `(KV read only ${kv.toFixed(2)}, DO call only ${dobj.toFixed(2)}); ` +
        `A ${(med(rows.A) / e).toFixed(2)}x empty, B ${(med(rows.B) / e).toFixed(2)}x empty. ` +
        `(req/s follows CPU/request here: >= 0.5x the empty Worker's req/s needs <= 2x its CPU/request)`,
    );
  }
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
  for (const s of new Set(Object.values(servers).map((x) => x.stop))) s();
  await origin.close();
}
