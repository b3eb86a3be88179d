import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor, originSaw, originUrl } from '../helpers/principal';
import { verifyWebhookSignature } from '../../src/webhooks/sign';
import { classifyResult, finalVerdict, parseRetryAfter, retryDelayMs } from '../../src/jobs/retry';
import { failedResult } from '../../src/engines/result';
import { finished, hits, newRun, recordedRows, siteUrl, submit, waitFor } from './helpers';

const alice = credentialFor({
  rateLimit: '200/second',
  id: 'usr_rw_alice',
  name: 'rw-alice',
  kind: 'user',
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});
const SECRET = 'whsec_jobs_0123456789abcdef0123456789abcdef';

describe('retry policy (pure)', () => {
  const now = 1_800_000_000_000;
  it('retries timeouts, network errors, 429 and 5xx; records other 4xx and refusals at once', () => {
    expect(classifyResult(failedResult('https://a.example/', 'page timed out after 100 ms'), now).kind).toBe('retry');
    expect(classifyResult(failedResult('https://a.example/', 'fetch failed: connection reset'), now).kind).toBe('retry');
    expect(classifyResult(failedResult('https://a.example/', 'HTTP 503', 503), now).kind).toBe('retry');
    expect(
      classifyResult({ ...failedResult('https://a.example/', 'slow down', 429), response_headers: { 'retry-after': '7' } }, now),
    ).toEqual({ kind: 'retry', retryAfterMs: 7000 });
    expect(classifyResult(failedResult('https://a.example/', 'HTTP 404', 404), now).kind).toBe('failed');
    expect(classifyResult(failedResult('https://a.example/', 'redirect refused by the egress policy: private address'), now).kind).toBe(
      'failed',
    );
    expect(finalVerdict({ kind: 'retry' }, 4, 4).kind).toBe('failed');
    expect(finalVerdict({ kind: 'retry' }, 3, 4).kind).toBe('retry');
  });
  it('backs off exponentially with jitter, never below Retry-After, capped', () => {
    expect(retryDelayMs(1, 1000, 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 0)).toBe(2000);
    expect(retryDelayMs(3, 1000, 1)).toBe(4000);
    expect(retryDelayMs(1, 1000, 0.5, 30_000)).toBe(30_000);
    expect(retryDelayMs(30, 1000, 1)).toBe(300_000);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('retries in a running job', () => {
  it("retries what may pass, stops on what will not, and keeps each page's final error", async () => {
    const run = newRun('retry');
    const urls = [
      siteUrl(`/flaky/${run}-a?fail=2`), // 503, 503, then a page
      siteUrl(`/flaky/${run}-b?fail=99&status=404`), // a 404 is final at once
      siteUrl(`/flaky/${run}-c?fail=99`), // always 503: JOB_MAX_ATTEMPTS (4) attempts, then failed
      siteUrl(`/flaky/${run}-d?fail=1&status=429&retry_after=1`), // 429 with Retry-After: 1, then a page
      siteUrl(`/p/${run}/1`),
    ];
    const id = await submit(alice, { urls, engine: 'fetch' });
    const done = await waitFor(alice, id, finished, 60_000);
    expect(done.status).toBe('completed');
    expect(done.counts).toMatchObject({ total: 5, done: 3, failed: 2, retrying: 0 });
    const rows = await recordedRows(id);
    expect(rows.map((r) => [r.success, r.attempts, r.status_code])).toEqual([
      [1, 3, 200],
      [0, 1, 404],
      [0, 4, 503],
      [1, 2, 200],
      [1, 1, 200],
    ]);
    expect(rows[2]!.error).toMatch(/503/);
    const seen = await hits(`/flaky/${run}-`);
    expect(seen).toEqual({ [`/flaky/${run}-a`]: 3, [`/flaky/${run}-b`]: 1, [`/flaky/${run}-c`]: 4, [`/flaky/${run}-d`]: 2 });
  }, 60_000);
});

describe('webhooks', () => {
  it('signs the completion event so a receiver can verify it; the secret is never stored in clear', async () => {
    const id = await submit(alice, {
      urls: [siteUrl(`/p/${newRun('wh')}/1`)],
      engine: 'fetch',
      webhook: { url: `${originUrl()}/mcp/messages/`, secret: SECRET, events: ['completed', 'progress'] },
    });
    const done = await waitFor(alice, id, (s) => finished(s) && (s.webhook?.deliveries.length ?? 0) > 0, 30_000);
    expect(done.webhook!.deliveries[0]).toMatchObject({
      event: 'completed',
      attempt: 1,
      outcome: 'delivered',
      delivery: `${id}.completed`,
    });
    const seen = await originSaw(`${id}.completed`);
    expect(seen).not.toBeNull();
    expect(seen!.headers['x-crawlgate-event']).toBe('job.completed');
    const signature = seen!.headers['x-crawlgate-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature(SECRET, seen!.body, { signature }, Date.now())).toBe(true);
    expect(await verifyWebhookSignature('another-secret-another-secret-123456', seen!.body, { signature }, Date.now())).toBe(false);
    const event = JSON.parse(seen!.body) as { type: string; data: { job_id: string; status: string; counts: { done: number } } };
    expect(event).toMatchObject({ type: 'job.completed', data: { job_id: id, status: 'completed', counts: { done: 1 } } });
    // Stored state: the D1 row and the object's storage hold no clear secret.
    expect(JSON.stringify(await env.DB.prepare('SELECT * FROM jobs WHERE id = ?').bind(id).first())).not.toContain(SECRET);
    const stored = await runInDurableObject(
      env.JOBS.get(env.JOBS.idFromName(id)),
      (_i, state) =>
        JSON.stringify(state.storage.sql.exec('SELECT * FROM meta').toArray()) +
        JSON.stringify(state.storage.sql.exec('SELECT * FROM deliveries').toArray()),
    );
    expect(stored).toContain('sealedSecret');
    expect(stored).not.toContain(SECRET);
  }, 40_000);

  it('retries a failing receiver with backoff and logs every attempt', async () => {
    const run = newRun('whretry');
    const id = await submit(alice, {
      urls: [siteUrl(`/p/${run}/1`)],
      engine: 'fetch',
      webhook: { url: siteUrl(`/flaky/${run}-hook?fail=2`), secret: SECRET },
    });
    const done = await waitFor(alice, id, (s) => s.webhook?.deliveries[0]?.outcome === 'delivered', 30_000);
    expect(done.webhook!.deliveries.map((d) => [d.attempt, d.outcome]).reverse()).toEqual([
      [1, 'failed:503'],
      [2, 'failed:503'],
      [3, 'delivered'],
    ]);
    expect((await hits(`/flaky/${run}-hook`))[`/flaky/${run}-hook`]).toBe(3);
  }, 40_000);

  it('refuses a webhook to a private or metadata address at submission (422)', async () => {
    const res = await callAs(alice, '/jobs', {
      json: { urls: ['https://example.com/'], engine: 'fetch', webhook: { url: 'http://169.254.169.254/latest', secret: SECRET } },
    });
    expect(res.status).toBe(422);
    expect((await res.json<{ code: string }>()).code).toBe('url_not_allowed');
  });
});
