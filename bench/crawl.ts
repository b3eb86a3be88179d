// npm run bench:crawl — 500 pages of the local fixture site through crawlgate's edge engines,
// under `wrangler dev`: `/crawl` in batches and `/crawl/stream` in one request, for the fetch and
// browser engines. Prints pages/s, p50/p95 per page and the Worker's memory growth (RSS of its
// process tree). The seed's published figures: 11.06 pages/s, P95 650 ms, 267 MB for 500 pages.
// Options: --pages N (500), --batch N (25), --engines fetch,browser (both), --tabs N (EDGE_BROWSER_TABS, 4),
// --warm 0|1 (EDGE_BROWSER_WARM_CONTEXTS, 0 as its default).
// Each row also prints the 1-minute load average at its start: on a shared machine a row measured
// under a load above the core count is not comparable with one measured on a quiet one.
import os from 'node:os';
import path from 'node:path';
import { startSiteServer } from '../test/helpers/site-server';
// @ts-expect-error plain ESM helper without types
import { ROOT, rssMb, startWrangler } from './lib.mjs';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PAGES = arg('pages', 500);
const BATCH = arg('batch', 25);
const TABS = arg('tabs', 4);
const WARM = arg('warm', 0) !== 0;
const ENGINES = (() => {
  const i = process.argv.indexOf('--engines');
  return i > 0 ? String(process.argv[i + 1]).split(',') : ['fetch', 'browser'];
})();
const load = () => os.loadavg()[0]!.toFixed(1);
const KEY = 'sk-bench-crawl-T4wL3nB6cY1hD5fJ0gSQ8mZ2vK7pX9';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function main() {
  const site = await startSiteServer();
  const siteUrl = `http://127.0.0.1:${site.port}`;
  const gw = await startWrangler({
    config: path.join(ROOT, 'wrangler.toml'),
    migrate: true,
    vars: {
      ENVIRONMENT: 'development',
      ALLOW_PRIVATE_TARGETS: 'true',
      JWT_SECRET_KEY: 'bench-jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
      API_KEY_SALT: 'bench-api-key-salt-1f2e3d4c5b6a7f8e9d0c1b2a3f4e',
      API_KEYS: JSON.stringify({ bench: { key: KEY, scopes: ['crawl'], rate_limit: '100000/minute', max_concurrency: 100 } }),
      MAX_URLS: String(Math.max(PAGES, 100)),
      IP_RATE_LIMIT: '999999999/minute',
      ROUTE_RATE_LIMITS: JSON.stringify({ api: '999999/second', playground: '999999/second', health: '999999/second' }),
      TRUSTED_HOSTS: '',
      // Every page goes through its host's HostPacer (robots.txt + slot + release): no spacing here,
      // so the figures show the pacing object's cost per page, not the politeness delay itself.
      HOST_MIN_DELAY_MS: '0',
      HOST_MAX_CONCURRENCY: '100',
      EDGE_BROWSER_TABS: String(TABS),
      EDGE_BROWSER_WARM_CONTEXTS: String(WARM),
    },
  });
  const headers = { 'X-API-Key': KEY, 'Content-Type': 'application/json' };
  const urls = Array.from({ length: PAGES }, (_, i) => `${siteUrl}/pages/${i + 1}`);
  const rows: string[] = [];
  try {
    for (const engine of ENGINES) {
      // warm-up (browser launch, isolate) outside the measurement
      await (await fetch(`${gw.base}/crawl`, { method: 'POST', headers, body: JSON.stringify({ urls: [urls[0]], engine }) })).text();

      // /crawl in batches: per-page time = the batch's time / its pages
      const rss0 = rssMb(gw.pids());
      const load0 = load();
      const perPage: number[] = [];
      let ok = 0;
      const t0 = Date.now();
      for (let i = 0; i < urls.length; i += BATCH) {
        const batch = urls.slice(i, i + BATCH);
        const s = Date.now();
        const res = await fetch(`${gw.base}/crawl`, { method: 'POST', headers, body: JSON.stringify({ urls: batch, engine }) });
        const body = (await res.json()) as { results?: Array<{ success: boolean }> };
        const ms = Date.now() - s;
        ok += body.results?.filter((r) => r.success).length ?? 0;
        for (let k = 0; k < batch.length; k++) perPage.push(ms / batch.length);
      }
      const secs = (Date.now() - t0) / 1000;
      rows.push(
        `| ${engine} | /crawl (batches of ${BATCH}) | ${ok}/${PAGES} | ${(PAGES / secs).toFixed(2)} | ${pct(perPage, 50).toFixed(0)} | ${pct(perPage, 95).toFixed(0)} | ${(rssMb(gw.pids()) - rss0).toFixed(0)} | ${load0} |`,
      );

      // /crawl/stream: one request, per-page time = gap between consecutive lines
      const rss1 = rssMb(gw.pids());
      const load1 = load();
      const s = Date.now();
      const res = await fetch(`${gw.base}/crawl/stream`, { method: 'POST', headers, body: JSON.stringify({ urls, engine }) });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      let last = s;
      const gaps: number[] = [];
      let okStream = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const parsed = JSON.parse(line) as { status?: string; success?: boolean };
          if (parsed.status === 'completed') continue;
          const now = Date.now();
          gaps.push(now - last);
          last = now;
          if (parsed.success) okStream++;
        }
      }
      const streamSecs = (Date.now() - s) / 1000;
      rows.push(
        `| ${engine} | /crawl/stream (one request) | ${okStream}/${PAGES} | ${(PAGES / streamSecs).toFixed(2)} | ${pct(gaps, 50).toFixed(0)} | ${pct(gaps, 95).toFixed(0)} | ${(rssMb(gw.pids()) - rss1).toFixed(0)} | ${load1} |`,
      );
    }
  } finally {
    gw.stop();
    await site.close();
  }
  console.log(
    `\n${PAGES} pages of the local fixture through wrangler dev (seed: 11.06 pages/s, P95 650 ms, 267 MB); ${os.cpus().length} cores; browser tabs per request ${TABS}, warm contexts ${WARM ? 'on' : 'off'}\n`,
  );
  console.log('| engine | route | ok | pages/s | p50 ms/page | p95 ms/page | RSS growth MB | load avg (1 min) at start |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
