/**
 * The jobs issue's "done when", end to end through `wrangler dev` as a user runs it: submit 1,000
 * URLs, watch progress and the ETA, kill the whole dev server (SIGKILL: nothing is flushed) part-way,
 * start it again on the same local state, and get every result and a signed webhook.
 */
import { afterAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSiteServer } from '../helpers/site-server';
import { TEST_VARS } from '../helpers/test-vars';
import { verifyWebhookSignature } from '../../src/webhooks/sign';
// @ts-expect-error plain ESM helper without types
import { ROOT, startWrangler } from '../../bench/lib.mjs';

const KEY = 'sk-e2e-jobs-R5tY8uI1oP4aS7dF0gH3jK6lZ9xC2v';
const SECRET = 'whsec_e2e_0123456789abcdef0123456789abcdef';
type Gateway = { base: string; pids: () => number[]; stop: () => void };
const cleanups: Array<() => void | Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanups.reverse()) await f();
});

interface Snapshot {
  status: string;
  counts: { total: number; done: number; failed: number };
  progress: { percent: number; eta_seconds: number | null };
}

describe('a 1,000-URL job survives a dev-server crash', () => {
  it('resumes after SIGKILL and restart, delivers every result and a signed webhook', async () => {
    const site = await startSiteServer();
    cleanups.push(() => site.close());
    const hooks: { body: string; signature: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        hooks.push({ body, signature: String(req.headers['x-crawlgate-signature'] ?? '') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => void receiver.close());
    const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

    const persist = mkdtempSync(path.join(tmpdir(), 'cg-jobs-'));
    const vars = {
      ...TEST_VARS,
      ENVIRONMENT: 'development',
      ALLOW_PRIVATE_TARGETS: 'true',
      TRUSTED_HOSTS: '',
      ORIGIN_URL: '',
      MAX_BODY_BYTES: '1048576',
      JOB_CONCURRENCY: '4',
      JOB_LEASE_MS: '4000',
      API_KEYS: JSON.stringify({ jobs: { key: KEY, scopes: ['crawl', 'jobs:write', 'jobs:read'], rate_limit: '100000/minute' } }),
    };
    const start = async (migrate: boolean): Promise<Gateway> => {
      const gw = (await startWrangler({ config: path.join(ROOT, 'wrangler.toml'), vars, persist, migrate })) as Gateway;
      cleanups.push(() => gw.stop());
      return gw;
    };
    let gw = await start(true);
    const headers = { 'X-API-Key': KEY, 'Content-Type': 'application/json' };
    const run = `e2e-${Date.now()}`;
    const urls = Array.from({ length: 1000 }, (_, i) => `http://127.0.0.1:${site.port}/p/${run}/${i}?ms=10`);
    const created = await fetch(`${gw.base}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ urls, engine: 'fetch', webhook: { url: hookUrl, secret: SECRET } }),
    });
    expect(created.status).toBe(202);
    const { job_id } = (await created.json()) as { job_id: string };

    const poll = async (until: (s: Snapshot) => boolean, timeoutMs: number): Promise<Snapshot> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = (await (await fetch(`${gw.base}/jobs/${job_id}`, { headers })).json()) as Snapshot;
        if (until(s)) return s;
        if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    };
    const midway = await poll((s) => s.progress.percent >= 25, 120_000);
    expect(midway.status).toBe('running');
    expect(midway.progress.eta_seconds).not.toBeNull();
    expect(midway.counts.done).toBeLessThan(1000);

    // Crash: kill wrangler, workerd and everything under it at once.
    for (const pid of gw.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    gw = await start(false);
    const done = await poll((s) => ['completed', 'failed', 'cancelled'].includes(s.status), 180_000);
    expect(done.status).toBe('completed');
    expect(done.counts).toMatchObject({ total: 1000, done: 1000, failed: 0 });

    const lines = (await (await fetch(`${gw.base}/jobs/${job_id}/results?format=ndjson`, { headers })).text()).trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { url: string }).url)).toEqual(urls.map((u) => new URL(u).href));
    const seen = (await (await fetch(`http://127.0.0.1:${site.port}/hits?prefix=/p/${run}/`)).json()) as Record<string, number>;
    expect(Object.keys(seen)).toHaveLength(1000);

    const deadline = Date.now() + 30_000;
    while (hooks.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(hooks).toHaveLength(1);
    expect(JSON.parse(hooks[0]!.body)).toMatchObject({
      type: 'job.completed',
      data: { job_id, status: 'completed', counts: { done: 1000 } },
    });
    expect(await verifyWebhookSignature(SECRET, hooks[0]!.body, { signature: hooks[0]!.signature }, Date.now())).toBe(true);
  }, 400_000);
});
