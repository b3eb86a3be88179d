/**
 * Crawl4AI `raw:` HTML and 0.9 declarative hook actions on the edge engines (issue #20). The raw
 * page links a stylesheet on a loopback server and reports, in its own DOM, whether it applied:
 * so each case shows what left the browser — the page itself never is fetched, its sub-requests
 * pass the egress policy, and `block_resources` aborts what it names.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { callAs, credentialFor } from '../helpers/principal';

const HOST = (env as unknown as { TEST_C4AI09_ORIGIN_URL: string }).TEST_C4AI09_ORIGIN_URL;
const LOOPBACK_OK = { vars: { ORIGIN_URL: '', ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development' } };
const STRICT = { vars: { ORIGIN_URL: '' } };
const user = credentialFor({ id: 'key_raw_hooks', permissions: ['crawl:run', 'crawl:screenshot', 'crawl:headers'] });

const PROBE_PAGE = `raw:<html><head><link rel="stylesheet" href="${HOST}/__probe.css"></head><body style="height:5000px">
<div id="probe"></div><div id="out"></div><div id="scroll">not scrolled</div>
<script>
addEventListener('scroll', () => { document.getElementById('scroll').textContent = 'scrolled to ' + Math.round(scrollY > 0 ? 1 : 0); });
addEventListener('load', () => {
  const out = document.getElementById('out');
  out.textContent = getComputedStyle(document.getElementById('probe')).width === '123px' ? 'css-loaded' : 'css-blocked';
  out.className = 'done';
});
</script></body></html>`;

async function crawlRaw(
  options: { vars: Record<string, string> },
  hooks?: unknown[],
): Promise<{ status: number; html: string; success: boolean }> {
  const res = await callAs(user, '/crawl', {
    ...options,
    json: {
      urls: [PROBE_PAGE],
      engine: 'browser',
      crawler_config: { type: 'CrawlerRunConfig', params: { wait_for: 'css:#out.done' } },
      ...(hooks ? { hooks: { hooks } } : {}),
    },
  });
  const body = await res.json<{ results: Array<{ html: string; success: boolean; error_message: string | null }> }>();
  return { status: res.status, html: body.results?.[0]?.html ?? '', success: body.results?.[0]?.success ?? false };
}

describe('raw: HTML on the edge engines', () => {
  it('the fetch engine parses raw:// HTML as given (/md)', async () => {
    const res = await callAs(user, '/md', { ...STRICT, json: { url: 'raw://<html><body><h1>Hello, World!</h1></body></html>', f: 'raw' } });
    expect(res.status).toBe(200);
    const body = await res.json<{ markdown: string; success: boolean }>();
    expect(body.success).toBe(true);
    expect(body.markdown).toContain('# Hello, World!');
  });

  it('is refused where Crawl4AI 0.9 refuses it (/screenshot) with 422', async () => {
    const res = await callAs(user, '/screenshot', { ...STRICT, json: { url: 'raw:<p>x</p>' } });
    expect(res.status).toBe(422);
  });

  it('the browser engine renders it; its sub-requests load when the egress policy allows them', async () => {
    const r = await crawlRaw(LOOPBACK_OK);
    expect(r.status).toBe(200);
    expect(r.success).toBe(true);
    expect(r.html).toContain('css-loaded');
  }, 120_000);

  it("the page's sub-requests still pass the egress policy (a loopback stylesheet is refused)", async () => {
    const r = await crawlRaw(STRICT);
    expect(r.success).toBe(true);
    expect(r.html).toContain('css-blocked');
  }, 120_000);
});

describe('declarative hook actions on the browser engine', () => {
  it('block_resources aborts the stylesheet; scroll_to_bottom and wait_for_timeout run before the HTML is read', async () => {
    const r = await crawlRaw(LOOPBACK_OK, [
      { action: 'block_resources', params: { resource_types: ['stylesheet'] } },
      { action: 'scroll_to_bottom', params: { max_steps: 2, delay_ms: 50 } },
      { action: 'wait_for_timeout', params: { timeout_ms: 100 } },
    ]);
    expect(r.success).toBe(true);
    expect(r.html).toContain('css-blocked');
    expect(r.html).toContain('scrolled to 1');
  }, 120_000);

  it('refuses add_cookies / set_headers at the edge with 422 naming the action', async () => {
    const res = await callAs(user, '/crawl', {
      ...STRICT,
      json: {
        urls: ['raw:<p>x</p>'],
        engine: 'browser',
        hooks: { hooks: [{ action: 'set_headers', params: { headers: { 'X-Test': '1' } } }] },
      },
    });
    expect(res.status).toBe(422);
    expect((await res.json<{ detail: string }>()).detail).toContain('"set_headers" runs on the origin only');
  });
});
