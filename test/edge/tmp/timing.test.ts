import { it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createBrowserEngine } from '../../../src/crawl/edge/browser-engine';
import { createFetchEngine } from '../../../src/crawl/edge/fetch-engine';
import type { EdgeEngine } from '../../../src/crawl/types';
const SITE = (env as any).TEST_SITE_URL;
const B = (env as any).BROWSER;
const opts = { browserParams: {}, crawlerParams: {}, allowPrivateTargets: true };
async function measure(label: string, engine: EdgeEngine, n: number) {
  const urls = Array.from({ length: n }, (_, i) => `${SITE}/pages/${i}`);
  const t0 = Date.now();
  let last = t0; const gaps: number[] = []; let first = 0; let ok = 0;
  for await (const r of engine.crawl(urls, opts)) { const now = Date.now(); if (!first) first = now - t0; gaps.push(now - last); last = now; if (r.success) ok++; }
  const total = Date.now() - t0;
  const s = gaps.slice(1).sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  console.log(`${label}: n=${n} ok=${ok} total=${total}ms first=${first}ms pages/s=${(n / total * 1000).toFixed(1)} gap p50=${q(0.5)} p95=${q(0.95)}`);
}
it('timing', { timeout: 300000 }, async () => {
  await measure('fetch c=1', createFetchEngine({ concurrency: 1 }), 100);
  await measure('fetch c=8', createFetchEngine(), 200);
  await measure('browser c=1 (launch incl.)', createBrowserEngine(B, { concurrency: 1 }), 30);
  await measure('browser c=1 (reused)', createBrowserEngine(B, { concurrency: 1 }), 30);
  await measure('browser c=4 (reused)', createBrowserEngine(B), 60);
});
