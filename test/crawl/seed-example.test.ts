/**
 * The "done when": the seed's "Using API with API Key" example, unchanged but for the base
 * URL and the key, crawls through crawlgate (real app, real API-key verification from API_KEYS)
 * against the Crawl4AI-shaped origin.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { BASE } from '../helpers/test-vars';
import { originSaw } from '../helpers/principal';

const API_KEY = 'sk-prod-seedexample-2b7c9e4f1a8d6b3c0e5f9a2d7b4c1e8f';
const seedEnv = {
  ...(env as unknown as Env),
  API_KEYS: JSON.stringify({
    key1: { key: API_KEY, name: 'seed client', rate_limit: '1000/minute', scopes: ['crawl', 'screenshot', 'pdf'] },
  }),
} as Env;

async function post(path: string, headers: Record<string, string>, payload: unknown): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(BASE + path, { method: 'POST', headers, body: JSON.stringify(payload) }), seedEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('the seed\'s "Using API with API Key" example', () => {
  it('crawls through crawlgate with only BASE_URL and API_KEY changed', async () => {
    // As in the seed: headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    const headers = {
      Authorization: `Bearer ${API_KEY}`,
      'Content-Type': 'application/json',
      'X-Request-Id': `seed-example-${crypto.randomUUID()}`,
    };
    const payload = {
      urls: ['https://example.com'],
      browser_config: { type: 'BrowserConfig', params: { headless: true } },
      crawler_config: { type: 'CrawlerRunConfig', params: { cache_mode: 'bypass' } },
    };
    const res = await post('/crawl', headers, payload);
    expect(res.status).toBe(200);
    const body = await res.json<{ success: boolean; results: Array<{ url: string; success: boolean }> }>();
    expect(body.success).toBe(true);
    expect(body.results[0]).toMatchObject({ url: 'https://example.com/', success: true });
    const seen = (await originSaw(headers['X-Request-Id']))!;
    expect(seen.headers.authorization).not.toContain(API_KEY);
    expect(JSON.stringify(seen.headers)).not.toContain(API_KEY);
  });

  it('the same key cannot run /execute_js (seed scopes do not include crawl:js)', async () => {
    const res = await post(
      '/execute_js',
      { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      { url: 'https://example.com/', scripts: ['1'] },
    );
    expect(res.status).toBe(403);
  });

  it('a wrong key is a 401 and never reaches the origin', async () => {
    const rid = `seed-wrong-${crypto.randomUUID()}`;
    const res = await post(
      '/crawl',
      { Authorization: 'Bearer sk-prod-not-a-real-key-0000000000000000', 'Content-Type': 'application/json', 'X-Request-Id': rid },
      { urls: ['https://example.com'] },
    );
    expect(res.status).toBe(401);
    expect(await originSaw(rid)).toBeNull();
  });
});
