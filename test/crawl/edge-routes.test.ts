/**
 * The crawl routes with no origin: crawlgate crawls at the edge (fetch and browser engines) and
 * answers in Crawl4AI's shapes. The site is the real loopback test server, so these calls run with
 * ALLOW_PRIVATE_TARGETS (development) and no ORIGIN_URL.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { callAs, credentialFor } from '../helpers/principal';

const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;
const EDGE = { vars: { ORIGIN_URL: '', ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development' } };
const user = credentialFor({ id: 'key_edge_user', permissions: ['crawl:run', 'crawl:screenshot', 'crawl:pdf'] });

describe('POST /crawl at the edge', () => {
  it('crawls with the fetch engine when no origin is configured, in Crawl4AI shape', async () => {
    const res = await callAs(user, '/crawl', {
      ...EDGE,
      json: { urls: [`${SITE}/`], crawler_config: { type: 'CrawlerRunConfig', params: {} } },
    });
    expect(res.status).toBe(200);
    const body = await res.json<{
      success: boolean;
      results: Array<{
        url: string;
        success: boolean;
        status_code: number;
        markdown: { raw_markdown: string };
        metadata: Record<string, string>;
      }>;
    }>();
    expect(body.success).toBe(true);
    expect(body.results).toHaveLength(1);
    expect(body.results[0]).toMatchObject({ success: true, status_code: 200 });
    expect(body.results[0]?.markdown.raw_markdown.length).toBeGreaterThan(0);
  });

  it('streams one NDJSON line per URL, then {"status":"completed"}', async () => {
    const res = await callAs(user, '/crawl/stream', { ...EDGE, json: { urls: [`${SITE}/`, `${SITE}/missing-page`], engine: 'fetch' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toEqual({ status: 'completed' });
    const results = lines.slice(0, -1);
    expect(results.map((r) => r.url).sort()).toEqual([`${SITE}/`, `${SITE}/missing-page`].sort());
    expect(results.find((r) => r.url === `${SITE}/missing-page`)?.success).toBe(false);
  });

  it('answers /md with markdown for the page', async () => {
    const res = await callAs(user, '/md', { ...EDGE, json: { url: `${SITE}/`, f: 'raw' } });
    expect(res.status).toBe(200);
    const body = await res.json<{ markdown: string; success: boolean }>();
    expect(body.success).toBe(true);
    expect(typeof body.markdown).toBe('string');
    expect(body.markdown.length).toBeGreaterThan(0);
  });

  it('takes a screenshot with the browser engine (real Browser Rendering binding)', async () => {
    const res = await callAs(user, '/screenshot', { ...EDGE, json: { url: `${SITE}/` } });
    expect(res.status).toBe(200);
    const body = await res.json<{ success: boolean; screenshot: string }>();
    expect(body.success).toBe(true);
    const bytes = Uint8Array.from(atob(body.screenshot.slice(0, 16)), (ch) => ch.charCodeAt(0));
    expect([...bytes.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('still applies the egress policy to targets: the metadata address is refused', async () => {
    const res = await callAs(user, '/crawl', { ...EDGE, json: { urls: ['http://169.254.169.254/latest/meta-data/'] } });
    expect(res.status).toBe(422);
    expect((await res.json<{ code: string }>()).code).toBe('url_not_allowed');
  });
});
