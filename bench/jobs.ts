// npm run bench:jobs — crawl jobs of 500 and 1,000 pages of the local fixture site through
// crawlgate under `wrangler dev` (fetch engine, default JOB_* settings, queue + Durable Objects as
// miniflare runs them). Prints pages/s, success, per-page p50/p95, the Worker's peak memory growth
// (RSS of its process tree) and how good the ETA was: the ETA shown at 25 % and 50 % against the
// time the job really took from there. The seed's figures: 11.06 pages/s (500), 10.81 (1,000), 98.6 %.
// Options: --sizes 500,1000
import path from 'node:path';
import { startSiteServer } from '../test/helpers/site-server';
// @ts-expect-error plain ESM helper without types
import { ROOT, rssMb, startWrangler } from './lib.mjs';

const sizesArg = process.argv.indexOf('--sizes');
const SIZES = sizesArg > 0 ? process.argv[sizesArg + 1]!.split(',').map(Number) : [500, 1000];
const KEY = 'sk-bench-jobs-Q8wE3rT6yU1iO5pA0sDF9gH2jK7lZ4';

interface Snapshot {
  status: string;
  counts: { total: number; done: number; failed: number };
  progress: { percent: number; eta_seconds: number | null };
  timing: { p50_ms: number | null; p95_ms: number | null };
}

async function main() {
  const site = await startSiteServer();
  const siteUrl = `http://127.0.0.1:${site.port}`;
  const gw = await startWrangler({
    config: path.join(ROOT, 'wrangler.toml'),
    migrate: true,
    vars: {
      ENVIRONMENT: 'development',
      ALLOW_PRIVATE_TARGETS: 'true',
      ORIGIN_URL: '',
      JWT_SECRET_KEY: 'bench-jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
      API_KEY_SALT: 'bench-api-key-salt-1f2e3d4c5b6a7f8e9d0c1b2a3f4e',
      API_KEYS: JSON.stringify({ bench: { key: KEY, scopes: ['crawl', 'jobs:write', 'jobs:read'], rate_limit: '100000/minute' } }),
      IP_RATE_LIMIT: '999999999/minute',
      ROUTE_RATE_LIMITS: JSON.stringify({ api: '999999/second', playground: '999999/second', health: '999999/second' }),
      TRUSTED_HOSTS: '',
      // The bench measures the engines, not politeness toward its one fixture host (docs/polite-crawling.md).
      HOST_MIN_DELAY_MS: '0',
      HOST_MAX_CONCURRENCY: '1000',
      MAX_BODY_BYTES: String(4 * 1048576),
    },
  });
  const headers = { 'X-API-Key': KEY, 'Content-Type': 'application/json' };
  const rows: string[] = [];
  try {
    for (const size of SIZES) {
      const urls = Array.from({ length: size }, (_, i) => `${siteUrl}/pages/${i + 1}`);
      const rss0 = rssMb(gw.pids());
      let peak = rss0;
      const t0 = Date.now();
      const res = await fetch(`${gw.base}/jobs`, { method: 'POST', headers, body: JSON.stringify({ urls, engine: 'fetch' }) });
      if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${await res.text()}`);
      const { job_id } = (await res.json()) as { job_id: string };
      const etaAt: Record<number, { t: number; eta: number | null }> = {};
      let snap: Snapshot;
      for (;;) {
        snap = (await (await fetch(`${gw.base}/jobs/${job_id}`, { headers })).json()) as Snapshot;
        const t = Date.now();
        peak = Math.max(peak, rssMb(gw.pids()));
        for (const mark of [25, 50]) if (!etaAt[mark] && snap.progress.percent >= mark) etaAt[mark] = { t, eta: snap.progress.eta_seconds };
        if (['completed', 'failed', 'cancelled'].includes(snap.status)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const tEnd = Date.now();
      const secs = (tEnd - t0) / 1000;
      const eta = (mark: number) => {
        const e = etaAt[mark];
        if (!e || e.eta === null) return 'n/a';
        const actual = (tEnd - e.t) / 1000;
        return `${e.eta.toFixed(1)} s vs ${actual.toFixed(1)} s`;
      };
      const success = ((snap.counts.done / size) * 100).toFixed(1);
      rows.push(
        `| ${size} | ${snap.status} | ${(size / secs).toFixed(1)} | ${success} % | ${snap.timing.p50_ms} | ${snap.timing.p95_ms} | ${(peak - rss0).toFixed(0)} | ${eta(25)} | ${eta(50)} |`,
      );
    }
  } finally {
    gw.stop();
    await site.close();
  }
  console.log('\nCrawl jobs of the local fixture through wrangler dev, fetch engine, default JOB_* settings');
  console.log('(seed: 11.06 pages/s for 500, 10.81 for 1,000, 98.6 % success)\n');
  console.log(
    '| pages | status | pages/s (submit → done) | success | p50 ms/page | p95 ms/page | peak RSS growth MB | ETA at 25 % vs actual | ETA at 50 % vs actual |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
