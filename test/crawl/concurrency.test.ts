/**
 * Crawl concurrency leases on the real streaming route: a lease is held while the origin's NDJSON
 * stream is open, a second request over the cap gets 429 concurrency_limited, and the lease is
 * released when the stream ends.
 */
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor, newRequestId, originUrl } from '../helpers/principal';

describe('crawl concurrency on /crawl/stream', () => {
  it('holds one lease per open stream and frees it when the stream ends', async () => {
    const key = credentialFor({ id: `key_conc_${crypto.randomUUID().slice(0, 8)}`, permissions: ['crawl:run'], maxConcurrency: 1 });
    const rid = newRequestId('lease');
    const first = await callAs(key, '/crawl/stream', {
      json: { urls: ['https://example.com/a', 'https://example.com/b'] },
      headers: { 'X-Request-Id': rid },
    });
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read(); // the first line is through: the stream (and its lease) is open

    const second = await callAs(key, '/crawl', { json: { urls: ['https://example.com/c'] } });
    expect(second.status).toBe(429);
    const problem = await second.json<{ code: string }>();
    expect(problem.code).toBe('concurrency_limited');
    expect(Number(second.headers.get('Retry-After'))).toBeGreaterThan(0);

    await fetch(`${originUrl()}/__release?request_id=${encodeURIComponent(rid)}`);
    while (!(await reader.read()).done) {
      // drain to the end: the lease is released when the body finishes
    }
    let third: Response | undefined;
    for (let i = 0; i < 20; i++) {
      third = await callAs(key, '/crawl', { json: { urls: ['https://example.com/d'] } });
      if (third.status !== 429) break;
      await scheduler.wait(50); // the release runs as the stream closes; give it a moment
    }
    expect(third?.status).toBe(200);
  });
});
