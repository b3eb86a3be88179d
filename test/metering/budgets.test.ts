/**
 * Budgets end to end (docs/metering.md): a key with a budget of 100 credits and a known cost table
 * is refused with 402 `quota_exhausted` before anything is crawled, refills at the next UTC period
 * (injected clock), is charged only what a partial crawl used, and never overspends under
 * concurrency. The fixture site counts the requests it receives, so "nothing crawled" is observed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { callAs, credentialFor, newRequestId, originSaw } from '../helpers/principal';
import { readBudget, setBudget } from '../../src/metering/budgets';
import { setBudgetClockForTests } from '../../src/metering/clock';
import type { Env } from '../../src/env';

const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;
const E = env as unknown as Env;
const COSTS = JSON.stringify({ fetch_page: 10, browser_page: 50, origin_page: 7 });
const EDGE = { vars: { ORIGIN_URL: '', ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development', CREDIT_COSTS: COSTS } };
const ORIGIN = { vars: { CREDIT_COSTS: COSTS } };
const T0 = Date.UTC(2031, 4, 17, 15, 30); // mid-afternoon UTC; the day ends 8.5 hours later

async function hits(prefix: string): Promise<Record<string, number>> {
  return (await fetch(`${SITE}/hits?prefix=${encodeURIComponent(prefix)}`)).json();
}

const run = () => crypto.randomUUID().slice(0, 8);
const pages = (r: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${SITE}/p/${r}/${from + i}`);

afterEach(() => setBudgetClockForTests(null));

describe('a budget of 100 credits (fetch page = 10)', () => {
  it('admits requests up to 100, refuses the one that would cross it with 402 and crawls nothing, refills at the next UTC day', async () => {
    const id = `key_budget_${run()}`;
    const key = credentialFor({ id, permissions: ['crawl:run'], maxConcurrency: 50 });
    await callAs(key, '/health'); // the key row exists in D1 before its budget is set
    let now = T0;
    setBudgetClockForTests(() => now);
    await setBudget(E, 'key', id, { credits: 100, period: 'day' });
    const r = run();

    const crawl = await callAs(key, '/crawl', { ...EDGE, json: { urls: pages(r, 1, 4) } }); // 40
    expect(crawl.status).toBe(200);
    expect(crawl.headers.get('RateLimit-Policy')).toContain('"budget";q=100;w=86400');
    expect(crawl.headers.get('RateLimit')).toContain('"budget";r=60;');
    const md = await callAs(key, '/md', { ...EDGE, json: { url: pages(r, 5, 1)[0] } }); // 50
    expect(md.status).toBe(200);
    const stream = await callAs(key, '/crawl/stream', { ...EDGE, json: { urls: pages(r, 6, 4) } }); // 90
    expect(stream.status).toBe(200);
    await stream.text();
    expect((await readBudget(E, 'key', id))?.used).toBe(90);

    const over = await callAs(key, '/crawl', { ...EDGE, json: { urls: pages(r, 10, 2) } }); // would be 110
    expect(over.status).toBe(402);
    expect(over.headers.get('Content-Type')).toContain('application/problem+json');
    const problem = await over.json<{ code: string; remaining: number; resets_at: string }>();
    expect(problem.code).toBe('quota_exhausted');
    expect(problem.remaining).toBe(10);
    expect(problem.resets_at).toBe('2031-05-18T00:00:00.000Z');
    expect(over.headers.get('Retry-After')).toBe(String(8.5 * 3600));
    expect(await hits(`/p/${r}/1`)).not.toEqual({});
    expect(await hits(`/p/${r}/10`)).toEqual({}); // nothing crawled
    expect(await hits(`/p/${r}/11`)).toEqual({});
    expect((await readBudget(E, 'key', id))?.used).toBe(90);

    now = Date.UTC(2031, 4, 18, 0, 0, 1); // the next UTC day: refilled
    const after = await callAs(key, '/crawl', { ...EDGE, json: { urls: pages(r, 10, 2) } });
    expect(after.status).toBe(200);
    expect(await hits(`/p/${r}/10`)).toEqual({ [`/p/${r}/10`]: 1 });
    expect(await readBudget(E, 'key', id)).toMatchObject({
      credits: 100,
      period: 'day',
      used: 20,
      remaining: 80,
      resets_at: '2031-05-19T00:00:00.000Z',
    });
  });

  it('charges a partial crawl only for the pages it got (the failed page is refunded)', async () => {
    const id = `key_partial_${run()}`;
    const key = credentialFor({ id, permissions: ['crawl:run'], maxConcurrency: 50 });
    setBudgetClockForTests(() => T0);
    await setBudget(E, 'key', id, { credits: 100, period: 'day' });
    const r = run();
    const res = await callAs(key, '/crawl', { ...EDGE, json: { urls: [...pages(r, 1, 2), `${SITE}/missing`] } });
    expect(res.status).toBe(200);
    const body = await res.json<{ results: Array<{ success: boolean }> }>();
    expect(body.results.filter((x) => x.success)).toHaveLength(2);
    // 30 reserved, 20 used: the refund of 10 rides on the next admission or a flush 100 ms later.
    await vi.waitFor(async () => expect((await readBudget(E, 'key', id))?.used).toBe(20), { timeout: 5000, interval: 50 });
  });

  it('refuses a request to the origin with 402 before the origin sees it', async () => {
    const id = `key_origin_${run()}`;
    const key = credentialFor({ id, permissions: ['crawl:run'], maxConcurrency: 50 });
    setBudgetClockForTests(() => T0);
    await setBudget(E, 'key', id, { credits: 20, period: 'month' });
    const ok = newRequestId('budget-origin-ok');
    const first = await callAs(key, '/crawl', {
      ...ORIGIN,
      headers: { 'X-Request-Id': ok },
      json: { urls: ['https://example.com/a', 'https://example.com/b'] },
    }); // 14
    expect(first.status).toBe(200);
    await first.text();
    expect(await originSaw(ok)).not.toBeNull();
    const refused = newRequestId('budget-origin-refused');
    const res = await callAs(key, '/crawl', { ...ORIGIN, headers: { 'X-Request-Id': refused }, json: { urls: ['https://example.com/c'] } }); // 21 > 20
    expect(res.status).toBe(402);
    expect(await res.json()).toMatchObject({ code: 'quota_exhausted', remaining: 6, resets_at: '2031-06-01T00:00:00.000Z' });
    expect(await originSaw(refused)).toBeNull();
  });
});

describe('concurrency: 20 parallel requests against a budget of 10 pages', () => {
  it('charges and crawls at most 10', async () => {
    const id = `key_race_${run()}`;
    const key = credentialFor({ id, permissions: ['crawl:run'], maxConcurrency: 100 });
    await callAs(key, '/health');
    await setBudget(E, 'key', id, { credits: 10, period: 'day' });
    const r = run();
    const vars = { vars: { ...EDGE.vars, CREDIT_COSTS: '{"fetch_page":1}' } };
    const responses = await Promise.all(pages(r, 1, 20).map((url) => callAs(key, '/md', { ...vars, json: { url } })));
    const statuses = responses.map((x) => x.status);
    const ok = statuses.filter((s) => s === 200).length;
    expect(statuses.every((s) => s === 200 || s === 402)).toBe(true);
    expect(ok).toBeLessThanOrEqual(10);
    expect(ok).toBeGreaterThan(0);
    const crawled = Object.values(await hits(`/p/${r}/`)).reduce((a, b) => a + b, 0);
    expect(crawled).toBe(ok);
    const budget = await readBudget(E, 'key', id);
    expect(budget?.used).toBe(ok);
    expect(budget?.used).toBeLessThanOrEqual(10);
  });
});
