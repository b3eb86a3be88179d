/** Per-field policy, URL caps, body caps and SSRF through HTTP: refused before the origin sees anything. */
import { describe, expect, it } from 'vitest';
import { problem } from '../helpers/http';
import { callAs, credentialFor, newRequestId, originSaw } from '../helpers/principal';

const user = credentialFor({
  id: 'key_policy_user',
  permissions: ['crawl:run', 'crawl:screenshot', 'crawl:pdf', 'jobs:write', 'jobs:read'],
});
const scripter = credentialFor({ id: 'key_policy_js', permissions: ['crawl:run', 'crawl:js'] });

async function refused(res: Response, status: number, code: string, rid: string) {
  expect(res.status).toBe(status);
  const p = await problem(res);
  expect(p.code).toBe(code);
  expect(await originSaw(rid)).toBeNull();
  return p;
}

describe('code-running fields need crawl:js', () => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    [
      'hooks',
      '/crawl',
      { urls: ['https://example.com/'], hooks: { code: { on_page_context_created: 'async def hook(page, context, **kw): return page' } } },
    ],
    [
      'js_code in crawler_config params',
      '/crawl',
      { urls: ['https://example.com/'], crawler_config: { type: 'CrawlerRunConfig', params: { js_code: ['document.title'] } } },
    ],
    [
      'js_code in a crawler_configs entry',
      '/crawl/stream',
      {
        urls: ['https://example.com/', 'https://example.org/'],
        crawler_configs: [{ type: 'CrawlerRunConfig', params: { js_code: 'x()' } }],
      },
    ],
    [
      'wait_for js: condition',
      '/crawl',
      { urls: ['https://example.com/'], crawler_config: { params: { wait_for: 'js:() => window.ready' } } },
    ],
    ['c4a_script', '/crawl', { urls: ['https://example.com/'], crawler_config: { params: { c4a_script: 'CLICK `#go`' } } }],
    ['/execute_js', '/execute_js', { url: 'https://example.com/', scripts: ['document.title'] }],
  ];

  it.each(cases)('refuses %s without crawl:js (403)', async (_label, path, json) => {
    const rid = newRequestId('nojs');
    const p = await refused(await callAs(user, path, { json, headers: { 'X-Request-Id': rid } }), 403, 'insufficient_scope', rid);
    expect(p.detail).toContain('crawl:js');
  });

  // To an origin that runs code fields (Crawl4AI ≤ 0.8); the default 0.9 profile refuses them at the gateway (test/crawl/crawl4ai-09.test.ts).
  it.each(cases.filter(([, path]) => path !== '/crawl/stream'))(
    'forwards %s with crawl:js to a crawl4ai-0.8 origin',
    async (_label, path, json) => {
      const rid = newRequestId('js');
      const res = await callAs(scripter, path, { json, headers: { 'X-Request-Id': rid }, vars: { ORIGIN_PROFILE: 'crawl4ai-0.8' } });
      expect(res.status).toBe(200);
      expect((await originSaw(rid))!.path).toBe(path);
    },
  );

  it('lets a plain wait_for CSS selector through without crawl:js', async () => {
    const res = await callAs(user, '/crawl', {
      json: { urls: ['https://example.com/'], crawler_config: { params: { wait_for: 'css:#main' } } },
    });
    expect(res.status).toBe(200);
  });
});

describe('request shape limits', () => {
  it('refuses more URLs than MAX_URLS with 422 too_many_urls naming the limit', async () => {
    const rid = newRequestId('maxurls');
    const urls = ['https://example.com/1', 'https://example.com/2', 'https://example.com/3'];
    const res = await callAs(user, '/crawl', { json: { urls }, vars: { MAX_URLS: '2' }, headers: { 'X-Request-Id': rid } });
    const p = await refused(res, 422, 'too_many_urls', rid);
    expect(p.limit).toBe(2);
    expect(p.detail).toContain('2');
  });

  it('refuses an empty url list (422 validation_failed)', async () => {
    const res = await callAs(user, '/crawl', { json: { urls: [] } });
    expect(res.status).toBe(422);
  });

  it.each(['user_id', 'owner', 'tenant', 'api_token', 'Authorization', 'scopes', 'roles'])(
    'refuses the identity-changing top-level field %s',
    async (field) => {
      const rid = newRequestId('ident');
      const res = await callAs(user, '/crawl', {
        json: { urls: ['https://example.com/'], [field]: 'admin' },
        headers: { 'X-Request-Id': rid },
      });
      await refused(res, 422, 'validation_failed', rid);
    },
  );

  it("refuses output_path (a write on the crawler's disk)", async () => {
    const rid = newRequestId('outpath');
    const res = await callAs(user, '/screenshot', {
      json: { url: 'https://example.com/', output_path: '/etc/cron.d/x' },
      headers: { 'X-Request-Id': rid },
    });
    await refused(res, 422, 'validation_failed', rid);
  });

  it.each([
    [
      'extra_args (Chromium flags)',
      { browser_config: { type: 'BrowserConfig', params: { extra_args: ['--host-resolver-rules=MAP * 169.254.169.254'] } } },
    ],
    ['cdp_url (attach to another browser)', { browser_config: { params: { cdp_url: 'ws://10.0.0.2:9222' } } }],
    ['user_data_dir (a path on the crawler)', { browser_config: { params: { user_data_dir: '/root/.config' } } }],
  ])('refuses %s anywhere in the body', async (_label, extra) => {
    const rid = newRequestId('hostctl');
    const res = await callAs(user, '/crawl', { json: { urls: ['https://example.com/'], ...extra }, headers: { 'X-Request-Id': rid } });
    await refused(res, 422, 'validation_failed', rid);
  });

  it("a screenshot or pdf flag in crawler_config needs that route's permission", async () => {
    const runOnly = credentialFor({ id: 'key_run_only', permissions: ['crawl:run'] });
    for (const flag of ['screenshot', 'pdf']) {
      const rid = newRequestId('flag');
      const res = await callAs(runOnly, '/crawl', {
        json: { urls: ['https://example.com/'], crawler_config: { params: { [flag]: true } } },
        headers: { 'X-Request-Id': rid },
      });
      const p = await refused(res, 403, 'insufficient_scope', rid);
      expect(p.detail).toContain(`crawl:${flag}`);
    }
    expect(
      (await callAs(user, '/crawl', { json: { urls: ['https://example.com/'], crawler_config: { params: { screenshot: true } } } })).status,
    ).toBe(200);
  });

  it('refuses a body over MAX_BODY_BYTES by Content-Length (413)', async () => {
    const big = JSON.stringify({ urls: ['https://example.com/'], pad: 'x'.repeat(70_000) });
    const res = await callAs(user, '/crawl', {
      body: big,
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(big.length) },
    });
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe('payload_too_large');
  });

  it('refuses a chunked body over MAX_BODY_BYTES (413), whatever it claims', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(16_384));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await callAs(user, '/crawl', {
      body: stream,
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });
});

describe('SSRF through HTTP', () => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['hex loopback in urls', '/crawl', { urls: ['https://example.com/', 'http://0x7f.1/'] }],
    ['decimal metadata in urls', '/crawl/stream', { urls: ['http://2852039166/latest/meta-data/'] }],
    ['IPv4-mapped metadata in /md', '/md', { url: 'http://[::ffff:169.254.169.254]/' }],
    ['credentials + loopback in /html', '/html', { url: 'http://a@127.0.0.1:8080/' }],
    ['GCP metadata name in /pdf', '/pdf', { url: 'http://metadata.google.internal/' }],
    ['file scheme in /screenshot', '/screenshot', { url: 'file:///etc/passwd' }],
    [
      'private proxy in browser_config',
      '/crawl',
      { urls: ['https://example.com/'], browser_config: { type: 'BrowserConfig', params: { proxy: '192.168.1.10:3128' } } },
    ],
    [
      'metadata webhook on a job',
      '/crawl/job',
      { urls: ['https://example.com/'], webhook_config: { webhook_url: 'http://169.254.169.254/' } },
    ],
  ];

  it.each(cases)('refuses %s with 422 url_not_allowed', async (_label, path, json) => {
    const rid = newRequestId('ssrf');
    await refused(await callAs(user, path, { json, headers: { 'X-Request-Id': rid } }), 422, 'url_not_allowed', rid);
  });

  it("refuses a caller-chosen LLM base_url in /md for everyone (422 validation_failed: it would receive the origin's key)", async () => {
    const rid = newRequestId('mdbase');
    const p = await refused(
      await callAs(user, '/md', {
        json: { url: 'https://example.com/', f: 'llm', q: 'x', base_url: 'http://10.0.0.5:11434' },
        headers: { 'X-Request-Id': rid },
      }),
      422,
      'validation_failed',
      rid,
    );
    expect(p.errors).toContainEqual(expect.objectContaining({ path: '$.base_url' }));
  });

  it('ALLOW_PRIVATE_TARGETS (development) lets a private target through', async () => {
    const res = await callAs(user, '/crawl', {
      json: { urls: ['http://127.0.0.1:9/'] },
      vars: { ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development' },
    });
    expect(res.status).toBe(200);
  });
});

describe('engine choice', () => {
  it('"engine" in the body goes to the edge engine, never the origin', async () => {
    const rid = newRequestId('edge');
    const res = await callAs(user, '/crawl', {
      json: { urls: ['https://example.com/'], engine: 'fetch' },
      headers: { 'X-Request-Id': rid },
    });
    // Until the edge engines land, getEdgeEngine answers 503; either way the origin saw nothing.
    expect([200, 503]).toContain(res.status);
    expect(await originSaw(rid)).toBeNull();
  });

  it('an unknown engine is a 422', async () => {
    const res = await callAs(user, '/crawl', { json: { urls: ['https://example.com/'], engine: 'origin' } });
    expect(res.status).toBe(422);
  });
});

describe('every crawl route authenticates and checks its permission', () => {
  const nobody = credentialFor({ id: 'key_no_perms', permissions: [] });
  const routes: Array<[string, string, unknown]> = [
    ['POST', '/crawl', { urls: ['https://example.com/'] }],
    ['POST', '/crawl/stream', { urls: ['https://example.com/'] }],
    ['POST', '/md', { url: 'https://example.com/' }],
    ['POST', '/html', { url: 'https://example.com/' }],
    ['POST', '/screenshot', { url: 'https://example.com/' }],
    ['POST', '/pdf', { url: 'https://example.com/' }],
    ['POST', '/execute_js', { url: 'https://example.com/', scripts: ['1'] }],
    ['POST', '/crawl/job', { urls: ['https://example.com/'] }],
    ['GET', '/crawl/job/crawl_0123456789ab', undefined],
    ['GET', '/mcp/sse', undefined],
    ['GET', '/mcp/schema', undefined],
    ['POST', '/mcp/messages/?session_id=abc', { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
  ];

  it.each(routes)('%s %s: 401 anonymous, 403 without the permission', async (method, path, json) => {
    const anon = await callAs(null, path, { method, json });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    const denied = await callAs(nobody, path, { method, json });
    expect(denied.status).toBe(403);
    expect((await problem(denied)).code).toBe('insufficient_scope');
  });
});

describe('browser sessions are per tenant', () => {
  // Crawl4AI 0.9 refuses session_id from the network; a crawl4ai-0.8 origin takes it, namespaced.
  it("namespaces crawler_config session_id with the caller's tenant (crawl4ai-0.8 origin)", async () => {
    const rid = newRequestId('session');
    const res = await callAs(user, '/crawl', {
      json: { urls: ['https://example.com/'], crawler_config: { type: 'CrawlerRunConfig', params: { session_id: 'login' } } },
      headers: { 'X-Request-Id': rid },
      vars: { ORIGIN_PROFILE: 'crawl4ai-0.8' },
    });
    expect(res.status).toBe(200);
    const sent = JSON.parse((await originSaw(rid))!.body);
    expect(sent.crawler_config.params.session_id).toBe('key_policy_user~login');
  });
});
