import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor } from '../helpers/principal';
import { call } from '../helpers/http';
import { finished, hits, runUrls, status, submit, waitFor } from './helpers';

const alice = credentialFor({
  rateLimit: '200/second',
  id: 'usr_jobs_alice',
  name: 'jobs-alice',
  kind: 'user',
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});

describe('a 500-page job', () => {
  it('completes with every page accounted for, once, in order', async () => {
    const run = `r500-${crypto.randomUUID().slice(0, 8)}`;
    const urls = runUrls(run, 500);
    const id = await submit(alice, { urls, engine: 'fetch' });
    expect(id).toMatch(/^job_[0-9a-f]{24}$/);
    const done = await waitFor(alice, id, finished, 120_000);
    expect(done.status).toBe('completed');
    expect(done.counts).toMatchObject({ total: 500, done: 500, failed: 0, retrying: 0, pending: 0, in_flight: 0 });
    expect(done.progress.percent).toBe(100);
    expect(done.progress.eta_seconds).toBe(0);
    expect(done.timing.p50_ms).toBeGreaterThanOrEqual(0);
    expect(done.timing.p95_ms).toBeGreaterThanOrEqual(done.timing.p50_ms!);
    expect(done.bytes).toBeGreaterThan(500 * 500);

    const rows = await env.DB.prepare('SELECT idx, url, success, attempts FROM job_results WHERE job_id = ? ORDER BY idx')
      .bind(id)
      .all<{ idx: number; url: string; success: number; attempts: number }>();
    expect(rows.results.map((r) => r.idx)).toEqual(urls.map((_, i) => i));
    expect(rows.results.every((r, i) => r.url === urls[i] && r.success === 1 && r.attempts === 1)).toBe(true);
    const seen = await hits(`/p/${run}/`);
    expect(Object.keys(seen)).toHaveLength(500);
    expect(Object.values(seen).every((n) => n === 1)).toBe(true);

    // Results, cursor-paged, carry the crawled content.
    const page1 = await (await callAs(alice, `/jobs/${id}/results?limit=200`)).json<{
      results: { url: string; markdown: { raw_markdown: string } }[];
      next_cursor: string | null;
    }>();
    expect(page1.results).toHaveLength(200);
    expect(page1.results[7]!.markdown.raw_markdown).toContain('Article 7');
    const page3 = await (
      await callAs(
        alice,
        `/jobs/${id}/results?limit=200&cursor=${encodeURIComponent((await (await callAs(alice, `/jobs/${id}/results?limit=200&cursor=${page1.next_cursor}`)).json<{ next_cursor: string }>()).next_cursor)}`,
      )
    ).json<{ results: { url: string }[]; next_cursor: string | null }>();
    expect(page3.results.map((r) => r.url)).toEqual(urls.slice(400));
    expect(page3.next_cursor).toBeNull();

    // Operators see job throughput in /metrics.
    const metrics = await (await call('/metrics', { ip: '10.1.2.3' })).text();
    expect(metrics).toContain('# TYPE crawlgate_job_pages_total counter');
    expect(Number(/crawlgate_job_pages_total\{engine="fetch",outcome="done"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(500);
  }, 150_000);
});
