/**
 * Crawl4AI 0.9's surface (issue #20) against a local origin that behaves like the 0.9 server
 * (test/helpers/crawl4ai-09-origin.ts: refuses power fields, stores screenshots/PDFs as artifacts):
 * the origin profile stops what 0.9 would refuse before any origin call, artifacts are owned per
 * tenant, LLM routes need crawl:llm and take a provider by name, monitor routes are admin-only.
 * Each assertion about the origin reads what it recorded for the request id (or that it saw nothing).
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { callAs, credentialFor, newRequestId } from '../helpers/principal';
import { TEST_VARS } from '../helpers/test-vars';
import { MAX_REDACTED_PUSH_CHARS, redactedPush } from '../../src/crawl/monitor-routes';

const C4AI = (env as unknown as { TEST_C4AI09_ORIGIN_URL: string }).TEST_C4AI09_ORIGIN_URL;
const ORIGIN = { ORIGIN_URL: C4AI };
const EDGE = { ORIGIN_URL: '' };

const crawler = credentialFor({
  id: 'key_c4ai_crawler',
  owner: 'usr_c4ai_a',
  permissions: ['crawl:run', 'crawl:screenshot', 'crawl:pdf', 'jobs:write', 'jobs:read'],
});
const coder = credentialFor({
  id: 'key_c4ai_coder',
  owner: 'usr_c4ai_a',
  permissions: ['crawl:run', 'crawl:js', 'crawl:proxy', 'crawl:headers', 'crawl:llm', 'jobs:write'],
});
const sibling = credentialFor({ id: 'key_c4ai_sibling', owner: 'usr_c4ai_a', permissions: ['crawl:run', 'crawl:screenshot'] });
const other = credentialFor({
  id: 'key_c4ai_other',
  owner: 'usr_c4ai_b',
  permissions: ['crawl:run', 'crawl:screenshot', 'crawl:pdf', 'crawl:llm'],
});
const llmUser = credentialFor({ id: 'key_c4ai_llm', owner: 'usr_c4ai_c', permissions: ['crawl:run', 'crawl:llm'] });
const admin = credentialFor({
  id: 'usr_c4ai_admin',
  kind: 'user',
  roles: ['admin'],
  permissions: ['crawl:run', 'monitor:read', 'monitor:manage'],
});
const watcher = credentialFor({ id: 'key_c4ai_watcher', owner: 'usr_c4ai_w', permissions: ['monitor:read'] });

async function saw(rid: string): Promise<{ method: string; path: string; headers: Record<string, string>; body: string } | null> {
  const res = await fetch(`${C4AI}/__last?request_id=${encodeURIComponent(rid)}`);
  return res.status === 200 ? res.json() : null;
}

async function send(credential: string, path: string, init: { json?: unknown; method?: string; vars?: Record<string, string> } = {}) {
  const rid = newRequestId('c4ai');
  const res = await callAs(credential, path, {
    ...(init.json !== undefined ? { json: init.json } : {}),
    method: init.method ?? (init.json !== undefined ? 'POST' : 'GET'),
    headers: { 'X-Request-Id': rid },
    vars: init.vars ?? ORIGIN,
  });
  return { res, rid };
}

const crawlWith = (params: Record<string, unknown>, browser: Record<string, unknown> = {}) => ({
  urls: ['https://example.com/'],
  browser_config: { type: 'BrowserConfig', params: browser },
  crawler_config: { type: 'CrawlerRunConfig', params },
});

describe('ORIGIN_PROFILE crawl4ai-0.9 (the default): fields the origin refuses stop at the gateway', () => {
  it("refuses js_code with 0.9's words and points a crawl:js holder at the edge browser; the origin is never called", async () => {
    const { res, rid } = await send(coder, '/crawl', { json: crawlWith({ js_code: 'document.title' }) });
    expect(res.status).toBe(400);
    const body = await res.json<{ code: string; detail: string; errors: Array<{ path: string }> }>();
    expect(body.code).toBe('origin_refuses_field');
    expect(body.detail).toContain("field 'js_code' is not permitted on CrawlerRunConfig from an untrusted request");
    expect(body.detail).toContain('"engine":"browser" runs it at the edge');
    expect(body.errors[0]?.path).toBe('$.crawler_config.params.js_code');
    expect(await saw(rid)).toBeNull();
  });

  it("still answers 403 first when the caller lacks the field's permission", async () => {
    const { res, rid } = await send(crawler, '/crawl', { json: crawlWith({ js_code: 'document.title' }) });
    expect(res.status).toBe(403);
    expect((await res.json<{ code: string }>()).code).toBe('insufficient_scope');
    expect(await saw(rid)).toBeNull();
  });

  it.each([
    ['a proxy', crawlWith({}, { proxy: 'http://proxy.example:8080' }), "field 'proxy' is not permitted on BrowserConfig"],
    [
      'cookies',
      crawlWith({}, { cookies: [{ name: 'a', value: 'b', domain: 'example.com' }] }),
      "field 'cookies' is not permitted on BrowserConfig",
    ],
    ['a session id', crawlWith({ session_id: 'mine' }), "field 'session_id' is not permitted on CrawlerRunConfig"],
    [
      'a nested LLM strategy',
      crawlWith({ extraction_strategy: { type: 'LLMExtractionStrategy', params: { instruction: 'x' } } }),
      "type 'LLMExtractionStrategy' may not be constructed",
    ],
    [
      'Python hooks',
      { urls: ['https://example.com/'], hooks: { code: { on_page_context_created: 'async def hook(page, **kw): return page' } } },
      'hooks.code (Python hook source) is no longer accepted',
    ],
  ])('refuses %s before any origin call, without the edge hint', async (_label, json, words) => {
    const { res, rid } = await send(coder, '/crawl', { json });
    expect(res.status).toBe(400);
    const body = await res.json<{ code: string; detail: string }>();
    expect(body.code).toBe('origin_refuses_field');
    expect(body.detail).toContain(words);
    expect(body.detail).not.toContain('engine');
    expect(await saw(rid)).toBeNull();
  });

  it('refuses the same on /crawl/job and /config/dump', async () => {
    const job = await send(coder, '/crawl/job', { json: crawlWith({ c4a_script: 'GO https://example.com' }) });
    expect(job.res.status).toBe(400);
    expect(await saw(job.rid)).toBeNull();
    const dump = await send(coder, '/config/dump', { json: { type: 'CrawlerRunConfig', params: { js_code: 'x()' } } });
    expect(dump.res.status).toBe(400);
    expect((await dump.res.json<{ detail: string }>()).detail).toContain("field 'js_code' is not permitted");
    expect(await saw(dump.rid)).toBeNull();
  });

  it('forwards the fields 0.9 keeps, drops the ones it would drop, clamps timeouts, with the origin token', async () => {
    const { res, rid } = await send(crawler, '/crawl', {
      json: crawlWith({ cache_mode: 'bypass', page_timeout: 120_000, wait_for: 'main' }, { headless: true, ignore_https_errors: true }),
    });
    expect(res.status).toBe(200);
    const seen = await saw(rid);
    expect(seen?.headers.authorization).toBe(`Bearer ${TEST_VARS.ORIGIN_SECRET}`);
    expect(JSON.parse(seen!.body)).toEqual({
      urls: ['https://example.com/'],
      browser_config: { type: 'BrowserConfig', params: { headless: true } },
      crawler_config: { type: 'CrawlerRunConfig', params: { cache_mode: 'bypass', page_timeout: 60_000, wait_for: 'css:main' } },
    });
  });

  it('with ORIGIN_PROFILE crawl4ai-0.8 forwards js_code for a crawl:js holder (an older origin runs it)', async () => {
    const { res, rid } = await send(coder, '/crawl', {
      json: crawlWith({ js_code: 'document.title' }),
      vars: { ...ORIGIN, ORIGIN_PROFILE: 'crawl4ai-0.8' },
    });
    // This origin is 0.9 and refuses it itself: the client sees its 400, and the origin did receive it.
    expect(res.status).toBe(400);
    expect(JSON.parse((await saw(rid))!.body).crawler_config.params.js_code).toBe('document.title');
  });
});

describe('GET /artifacts/{id}: screenshots and PDFs belong to the tenant that made them', () => {
  it("records the artifact of a forwarded /screenshot for the caller's tenant; another tenant gets 404 and the origin never sees it", async () => {
    const shot = await send(crawler, '/screenshot', { json: { url: 'https://example.com/' } });
    expect(shot.res.status).toBe(200);
    const { artifact_id, url } = await shot.res.json<{ artifact_id: string; url: string }>();
    expect(url).toBe(`/artifacts/${artifact_id}`);
    const row = await (env as unknown as { DB: D1Database }).DB.prepare(
      'SELECT tenant, principal_id FROM crawl_artifacts WHERE artifact_id = ?1',
    )
      .bind(artifact_id)
      .first();
    expect(row).toEqual({ tenant: 'usr_c4ai_a', principal_id: 'key_c4ai_crawler' });

    const mine = await send(crawler, url);
    expect(mine.res.status).toBe(200);
    expect(mine.res.headers.get('Content-Type')).toBe('image/png');
    expect(new Uint8Array(await mine.res.arrayBuffer()).slice(0, 4)).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]));

    const sameTenant = await send(sibling, url);
    expect(sameTenant.res.status).toBe(200);

    const theirs = await send(other, url);
    expect(theirs.res.status).toBe(404);
    expect((await theirs.res.json<{ code: string }>()).code).toBe('not_found');
    expect(await saw(theirs.rid)).toBeNull();
  });

  it('streams a multi-MB chunked answer through and still records the id that comes after the data', async () => {
    const shot = await send(crawler, '/screenshot', { json: { url: 'https://example.com/big-answer' } });
    expect(shot.res.status).toBe(200);
    const text = await shot.res.text();
    expect(text.length).toBeGreaterThan(3_000_000);
    const { artifact_id, url } = JSON.parse(text) as { artifact_id: string; url: string };
    expect(url).toBe(`/artifacts/${artifact_id}`);
    const row = await (env as unknown as { DB: D1Database }).DB.prepare('SELECT tenant FROM crawl_artifacts WHERE artifact_id = ?1')
      .bind(artifact_id)
      .first();
    expect(row).toEqual({ tenant: 'usr_c4ai_a' });
    expect((await send(crawler, url)).res.status).toBe(200);
    expect((await send(other, url)).res.status).toBe(404);
  });

  it('does the same for /pdf; an unknown or malformed id is a 404 too', async () => {
    const pdf = await send(other, '/pdf', { json: { url: 'https://example.com/' } });
    const { artifact_id } = await pdf.res.json<{ artifact_id: string }>();
    expect((await send(other, `/artifacts/${artifact_id}`)).res.headers.get('Content-Type')).toBe('application/pdf');
    expect((await send(crawler, `/artifacts/${artifact_id}`)).res.status).toBe(404);
    expect((await send(crawler, `/artifacts/${'0'.repeat(32)}`)).res.status).toBe(404);
    expect((await send(crawler, '/artifacts/..%2f..%2fetc')).res.status).toBe(400);
    expect((await send(crawler, '/artifacts/not-an-id')).res.status).toBe(404);
  });
});

describe('LLM routes: crawl:llm, provider by name', () => {
  it('forwards GET /llm/{url} with the question and the provider name only', async () => {
    const { res, rid } = await send(llmUser, '/llm/https://example.com/page?q=Extract%20main%20content&provider=openai/gpt-4o-mini');
    expect(res.status).toBe(200);
    expect((await res.json<{ answer: string }>()).answer).toContain('Extract main content');
    const seen = await saw(rid);
    expect(seen?.path).toBe('/llm/https%3A%2F%2Fexample.com%2Fpage?q=Extract+main+content&provider=openai%2Fgpt-4o-mini');
    expect(seen?.headers.authorization).toBe(`Bearer ${TEST_VARS.ORIGIN_SECRET}`);
  });

  it('needs crawl:llm and refuses base_url and private targets, before any origin call', async () => {
    const denied = await send(crawler, '/llm/example.com?q=hi');
    expect(denied.res.status).toBe(403);
    expect(await saw(denied.rid)).toBeNull();
    const baseUrl = await send(llmUser, '/llm/example.com?q=hi&base_url=https://evil.example/v1');
    expect(baseUrl.res.status).toBe(422);
    expect(await saw(baseUrl.rid)).toBeNull();
    const privateTarget = await send(llmUser, '/llm/169.254.169.254/latest?q=hi');
    expect(privateTarget.res.status).toBe(422);
    expect(await saw(privateTarget.rid)).toBeNull();
    const jobBaseUrl = await send(llmUser, '/llm/job', { json: { url: 'https://example.com/', q: 'x', base_url: 'https://evil.example' } });
    expect(jobBaseUrl.res.status).toBe(422);
    expect(await saw(jobBaseUrl.rid)).toBeNull();
  });

  it('queues /llm/job for its creator: the task reads back for them and is a 404 for another tenant', async () => {
    const job = await send(llmUser, '/llm/job', {
      json: { url: 'https://example.com/', q: 'Extract main content', cache: false, provider: 'openai/gpt-4o-mini' },
    });
    expect(job.res.status).toBe(202);
    const { task_id } = await job.res.json<{ task_id: string }>();
    expect(JSON.parse((await saw(job.rid))!.body)).toEqual({
      url: 'https://example.com/',
      q: 'Extract main content',
      cache: false,
      provider: 'openai/gpt-4o-mini',
    });
    expect((await send(llmUser, `/llm/job/${task_id}`)).res.status).toBe(200);
    const theirs = await send(other, `/llm/job/${task_id}`);
    expect(theirs.res.status).toBe(404);
    expect(await saw(theirs.rid)).toBeNull();
  });

  it('forwards /ask with its rebuilt query', async () => {
    const { res, rid } = await send(llmUser, '/ask?context_type=all&query=crawl4ai&max_results=5');
    expect(res.status).toBe(200);
    expect((await saw(rid))?.path).toBe('/ask?context_type=all&query=crawl4ai&max_results=5');
  });

  it.each(['/llm/https://example.com?q=hi', '/ask?query=x'])('answers %s at the edge with a clear 501 problem', async (path) => {
    const { res } = await send(llmUser, path, { vars: EDGE });
    expect(res.status).toBe(501);
    expect(res.headers.get('Content-Type')).toContain('application/problem+json');
    const body = await res.json<{ code: string; detail: string }>();
    expect(body.code).toBe('not_implemented');
    expect(body.detail).toMatch(/origin/);
  });

  it('answers POST /llm/job at the edge with 501 too', async () => {
    const { res } = await send(llmUser, '/llm/job', { json: { url: 'https://example.com/', q: 'x' }, vars: EDGE });
    expect(res.status).toBe(501);
  });
});

describe('/config/dump, /schema, /hooks/info', () => {
  it('validates a config at the edge and echoes its normalised form', async () => {
    const { res } = await send(crawler, '/config/dump', {
      json: { type: 'CrawlerRunConfig', params: { cache_mode: 'bypass', wait_for: 'main' } },
      vars: EDGE,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 'CrawlerRunConfig', params: { cache_mode: 'bypass', wait_for: 'css:main' } });
  });

  it('needs the permissions of the fields it validates, and refuses the old code form with 400', async () => {
    const js = await send(crawler, '/config/dump', { json: { type: 'CrawlerRunConfig', params: { js_code: 'x()' } }, vars: EDGE });
    expect(js.res.status).toBe(403);
    expect((await js.res.json<{ errors: Array<{ path: string }> }>()).errors[0]?.path).toBe('$.params.js_code');
    const code = await send(crawler, '/config/dump', { json: { code: 'CrawlerRunConfig()' }, vars: EDGE });
    expect(code.res.status).toBe(400);
    expect((await code.res.json<{ detail: string }>()).detail).toContain('"type": "CrawlerRunConfig"');
  });

  it('forwards a valid config to the origin', async () => {
    const { res, rid } = await send(crawler, '/config/dump', { json: { type: 'BrowserConfig', params: { headless: true } } });
    expect(res.status).toBe(200);
    expect(JSON.parse((await saw(rid))!.body)).toEqual({ type: 'BrowserConfig', params: { headless: true } });
  });

  it('answers /schema and /hooks/info itself at the edge, and forwards them with an origin', async () => {
    const schema = await send(crawler, '/schema', { vars: EDGE });
    expect(await schema.res.json()).toMatchObject({ browser: { type: 'BrowserConfig' }, crawler: { type: 'CrawlerRunConfig' } });
    const hooks = await send(crawler, '/hooks/info', { vars: EDGE });
    const info = await hooks.res.json<{ available_actions: Record<string, { edge: string }> }>();
    expect(Object.keys(info.available_actions).sort()).toEqual([
      'add_cookies',
      'block_resources',
      'scroll_to_bottom',
      'set_headers',
      'wait_for_timeout',
    ]);
    expect(info.available_actions.block_resources?.edge).toBe('supported');
    const forwarded = await send(crawler, '/hooks/info');
    expect(await forwarded.res.json()).toMatchObject({ from: 'origin' });
    expect((await saw(forwarded.rid))?.path).toBe('/hooks/info');
  });
});

describe("/monitor/*: admin only, other tenants' URLs never shown to non-admins", () => {
  it('forwards the monitor to an admin as the origin answered', async () => {
    const { res } = await send(admin, '/monitor/requests?status=all&limit=10');
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('https://tenant-a.example/secret-page');
  });

  it('redacts every URL for a non-admin holding monitor:read', async () => {
    const { res } = await send(watcher, '/monitor/requests');
    expect(res.status).toBe(200);
    const text = JSON.stringify(await res.json());
    expect(text).not.toContain('tenant-a.example');
    expect(text).not.toContain('tenant-b.example');
    expect(text).toContain('/crawl');
  });

  /** Opens /monitor/ws through the gateway and reads the first pushed message. */
  async function firstPush(credential: string): Promise<{ text: string; rid: string; ws: WebSocket }> {
    const rid = newRequestId('c4ai-ws');
    const res = await callAs(credential, '/monitor/ws', { headers: { Upgrade: 'websocket', 'X-Request-Id': rid }, vars: ORIGIN });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const first = new Promise<string>((resolve) => ws.addEventListener('message', (ev) => resolve(String(ev.data)), { once: true }));
    ws.accept();
    return { text: await first, rid, ws };
  }

  it('relays the live monitor socket: as pushed to an admin, redacted for a non-admin; client messages never reach the origin', async () => {
    const mine = await firstPush(admin);
    expect(mine.text).toContain('https://tenant-b.example/private?token=1');
    mine.ws.close(1000, 'done');

    const theirs = await firstPush(watcher);
    expect(theirs.text).not.toContain('tenant-b.example');
    expect(JSON.parse(theirs.text)).toMatchObject({ requests: { active: [{ endpoint: '/crawl', url: '[redacted]' }] } });
    theirs.ws.send(JSON.stringify({ action: 'kill_browser', sig: 'x' }));
    const next = new Promise<string>((resolve) => theirs.ws.addEventListener('message', (ev) => resolve(String(ev.data)), { once: true }));
    expect(await next).not.toContain('tenant-b.example'); // still pushing, still redacted
    const seen = (await saw(theirs.rid)) as { path: string; headers: Record<string, string>; ws_frames?: number } | null;
    expect(seen?.path).toBe('/monitor/ws');
    expect(seen?.headers.authorization).toBe(`Bearer ${TEST_VARS.ORIGIN_SECRET}`);
    expect(seen?.ws_frames).toBe(0);
    theirs.ws.close(1000, 'done');

    const denied = await callAs(crawler, '/monitor/ws', { headers: { Upgrade: 'websocket' }, vars: ORIGIN });
    expect(denied.status).toBe(403);
  });

  it('a monitor push too large to redact in bounded memory is dropped for a non-admin, never passed on unread', () => {
    const push = (size: number) => {
      const head = '{"requests":{"active":[{"url":"https://tenant-b.example/p"}]},"pad":"';
      return `${head}${'x'.repeat(size - head.length - 2)}"}`;
    };
    const fits = push(MAX_REDACTED_PUSH_CHARS);
    expect(fits.length).toBe(MAX_REDACTED_PUSH_CHARS);
    expect(redactedPush(fits)).toContain('[redacted]');
    expect(redactedPush(fits)).not.toContain('tenant-b.example');
    expect(redactedPush(push(MAX_REDACTED_PUSH_CHARS + 1))).toBeNull();
  });

  it('refuses callers without monitor permissions, and actions without monitor:manage', async () => {
    const read = await send(crawler, '/monitor/health');
    expect(read.res.status).toBe(403);
    expect(await saw(read.rid)).toBeNull();
    const action = await send(watcher, '/monitor/actions/cleanup', { json: {} });
    expect(action.res.status).toBe(403);
    expect(await saw(action.rid)).toBeNull();
    const ok = await send(admin, '/monitor/actions/cleanup', { json: {} });
    expect(ok.res.status).toBe(200);
  });
});
