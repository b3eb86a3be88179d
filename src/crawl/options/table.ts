/**
 * The crawl-option allow-list (issue #16): every body field of every crawl route and MCP tool,
 * and every Crawl4AI object type a body may construct, each with its class. It is the policy
 * (check.ts walks it) and the documentation (docs/crawling.md is generated from it, doc.ts).
 *
 * Checked against Crawl4AI 0.9.2 (`crawl4ai/async_configs.py` `ALLOWED_DESERIALIZE_TYPES`, the
 * constructors of each type, `deploy/docker/schemas.py`, `hook_registry.py`, `mcp_bridge.py`).
 * Crawl4AI 0.9's server applies its own, stricter "untrusted" gate; 0.8 servers and in-process
 * deployments do not, so this table classifies by what the origin *can execute*, not by what a
 * given release happens to refuse.
 *
 * To extend it (a new Crawl4AI field): add the field to its type with the class that matches
 * what the origin does with it, run `npm run docs:crawl-options`, and add a case to
 * test/crawl/options-table.test.ts. An operator who needs a field the table refuses extends the
 * table in code; there is deliberately no runtime switch that forwards unknown fields.
 */
import type { Permission } from '../../auth/rbac';
import type { TypeSpec, ValueSpec } from './kinds';
import { bool, capability, code, int, listOf, mapOf, never, num, obj, oneOf, safe, str, typed } from './kinds';
import { CONFIG_TYPES, headerMap } from './types-config';
import { STRATEGY_TYPES } from './types-strategies';
import { DEEP_TYPES } from './types-deep';

/** The Crawl4AI version the table was checked against (docs/crawling.md shows it). */
export const CRAWL4AI_CHECKED_VERSION = '0.9.2';

const url: ValueSpec = { kind: 'url' };
/** A URL, or Crawl4AI `raw:` HTML where the route accepts it (CheckContext.allowRawHtml). */
const target: ValueSpec = { kind: 'url', raw: true };
const engine = safe(oneOf('browser', 'fetch'), "crawl at the edge instead of forwarding (the gateway's own field; never forwarded)");
const HEADERS = 'crawl:headers' as const;
/** robots.txt bypass (docs/polite-crawling.md): the gateway's own field, read by the edge engines and jobs. */
const ignore_robots = safe(bool, "skip robots.txt for this request (the gateway's own field; edge engines and jobs)", {
  escalate: { cls: 'capability', permission: 'crawl:ignore-robots', applies: (v) => v === true, when: 'when true' },
});

const HOOK_TYPES: Record<string, TypeSpec> = {
  HookConfig: {
    source: 'deploy/docker/schemas.py HookConfig (0.9: declarative actions; ≤ 0.8: Python code)',
    fields: {
      hooks: safe(listOf(obj('HookSpec'), 10), 'declarative hook actions (Crawl4AI 0.9)'),
      timeout: safe(int(1, 120), 'seconds per hook'),
      code: code(mapOf(str(100_000), 10, /^[a-z_]{1,64}$/), 'Python hook source (Crawl4AI ≤ 0.8 runs it on the origin)'),
    },
  },
  HookSpec: {
    source: 'deploy/docker/hook_registry.py',
    fields: {
      action: safe(
        oneOf('block_resources', 'scroll_to_bottom', 'wait_for_timeout', 'add_cookies', 'set_headers'),
        'a server-authored hook action',
      ),
      params: safe(
        {
          kind: 'objectBySibling',
          sibling: 'action',
          types: {
            block_resources: 'HookBlockResources',
            scroll_to_bottom: 'HookScroll',
            wait_for_timeout: 'HookWait',
            add_cookies: 'HookAddCookies',
            set_headers: 'HookSetHeaders',
          },
        },
        "the action's parameters",
      ),
    },
  },
  HookBlockResources: {
    source: 'hook_registry.BlockResourcesParams',
    fields: { resource_types: safe(listOf(oneOf('image', 'stylesheet', 'font', 'media'), 4), 'resource types aborted') },
  },
  HookScroll: {
    source: 'hook_registry.ScrollToBottomParams',
    fields: { max_steps: safe(int(1, 50), 'scroll steps'), delay_ms: safe(int(0, 5000), 'delay per step (ms)') },
  },
  HookWait: { source: 'hook_registry.WaitForTimeoutParams', fields: { timeout_ms: safe(int(0, 60_000), 'wait (ms)') } },
  HookAddCookies: {
    source: 'hook_registry.AddCookiesParams',
    fields: { cookies: capability(HEADERS, listOf(obj('HookCookie'), 20), 'cookies added before navigation') },
  },
  HookCookie: {
    source: 'hook_registry._Cookie',
    fields: {
      name: safe(str(256), 'name'),
      value: safe(str(4096), 'value'),
      domain: safe(str(253, /^\.?[A-Za-z0-9.-]{1,253}$/), 'domain'),
      path: safe(str(1000), 'path'),
      secure: safe(bool, 'Secure'),
      httpOnly: safe(bool, 'HttpOnly'),
    },
  },
  HookSetHeaders: {
    source: 'hook_registry.SetHeadersParams',
    fields: { headers: capability(HEADERS, headerMap, 'extra request headers') },
  },
  WebhookConfig: {
    source: 'deploy/docker/schemas.py WebhookConfig (/crawl/job on the origin)',
    fields: {
      webhook_url: safe(url, 'notified when the task ends (egress-checked)'),
      webhook_data_in_payload: safe(bool, 'sends the results in the notification'),
      webhook_headers: safe(headerMap, 'headers of the notification'),
    },
  },
  JobWebhook: {
    source: 'crawlgate POST /jobs `webhook` (jobs run by the gateway)',
    fields: {
      url: safe(url, 'notified on job events (egress-checked)'),
      secret: safe({ kind: 'string', min: 32, max: 256 }, 'HMAC key for X-Crawlgate-Signature (stored sealed)'),
      events: safe(listOf(oneOf('completed', 'failed', 'cancelled', 'progress'), 4), 'events notified'),
    },
  },
};

/** The body of each route (and MCP tool) as a type, so one walker checks bodies and objects alike. */
const ROUTE_TYPES: Record<string, TypeSpec> = {
  'body:crawl': {
    source: 'POST /crawl, /crawl/stream, /jobs, MCP tool `crawl` (schemas.py CrawlRequestWithHooks)',
    fields: {
      urls: safe(listOf(target, 10_000), 'target URLs (egress-checked; MAX_URLS), or `raw:` HTML'),
      browser_config: safe(typed(['BrowserConfig'], 'BrowserConfig'), 'BrowserConfig'),
      crawler_config: safe(typed(['CrawlerRunConfig'], 'CrawlerRunConfig'), 'CrawlerRunConfig'),
      crawler_configs: safe(
        listOf(typed(['CrawlerRunConfig'], 'CrawlerRunConfig'), 100),
        'per-URL CrawlerRunConfigs (matched by url_matcher)',
      ),
      hooks: safe(obj('HookConfig'), 'hooks (declarative actions; Python code needs crawl:js)'),
      engine,
      ignore_robots,
    },
  },
  'body:md': {
    source: 'POST /md, MCP tool `md` (schemas.py MarkdownRequest)',
    fields: {
      url: safe(target, 'target URL (egress-checked), or `raw:` HTML'),
      f: safe(oneOf('fit', 'raw', 'bm25', 'llm'), 'filter', {
        escalate: { cls: 'capability', permission: 'crawl:llm', applies: (v) => v === 'llm', when: 'when "llm"' },
      }),
      q: safe(str(2000), 'query for the bm25/llm filters'),
      c: safe(str(100), 'cache-bust counter'),
      provider: capability(
        'crawl:llm',
        str(200, /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.:@/-]+$/),
        "LLM provider by name (its endpoint and key are the origin's)",
      ),
      temperature: safe(num(0, 2), 'LLM temperature'),
      base_url: never("a caller-chosen LLM endpoint receiving the origin's provider key (removed in Crawl4AI 0.9)"),
      engine,
      ignore_robots,
    },
  },
  'body:html': {
    source: 'POST /html, MCP tool `html`',
    fields: { url: safe(target, 'target URL (egress-checked), or `raw:` HTML'), engine, ignore_robots },
  },
  'body:screenshot': {
    source: 'POST /screenshot, MCP tool `screenshot`',
    fields: {
      url: safe(url, 'target URL (egress-checked)'),
      screenshot_wait_for: safe(num(0, 60), 'delay before capture (s)'),
      wait_for_images: safe(bool, 'waits for images'),
      output_path: never('a file path on the origin host (removed in Crawl4AI 0.9)'),
      engine,
      ignore_robots,
    },
  },
  'body:pdf': {
    source: 'POST /pdf, MCP tool `pdf`',
    fields: {
      url: safe(url, 'target URL (egress-checked)'),
      output_path: never('a file path on the origin host (removed in Crawl4AI 0.9)'),
      engine,
      ignore_robots,
    },
  },
  'body:execute_js': {
    source: 'POST /execute_js, MCP tool `execute_js`',
    fields: {
      url: safe(url, 'target URL (egress-checked)'),
      scripts: code(listOf(str(100_000), 50), 'JavaScript run on the page'),
      engine,
      ignore_robots,
    },
  },
  'body:job': {
    source: "POST /crawl/job (Crawl4AI CrawlJobPayload; on the gateway's jobs also `webhook`)",
    fields: {
      urls: safe(listOf(url, 10_000), 'target URLs (egress-checked)'),
      browser_config: safe(typed(['BrowserConfig'], 'BrowserConfig'), 'BrowserConfig'),
      crawler_config: safe(typed(['CrawlerRunConfig'], 'CrawlerRunConfig'), 'CrawlerRunConfig'),
      webhook_config: safe(obj('WebhookConfig'), "Crawl4AI's task webhook (origin)"),
      webhook: safe(obj('JobWebhook'), "the gateway job's signed webhook, as on POST /jobs"),
      engine,
      ignore_robots,
    },
  },
  'body:ask': {
    source: 'MCP tool `ask` (library documentation search; no target URL)',
    fields: {
      context_type: safe(oneOf('code', 'doc', 'all'), 'which context'),
      query: safe(str(2000), 'BM25 query'),
      score_ratio: safe(num(0, 1), 'minimum score ratio'),
      max_results: safe(int(1, 1000), 'results'),
    },
  },
};

/** Every type in the table, by name. Crawl4AI class names are the `type` values a body may use. */
export const TYPES: Readonly<Record<string, TypeSpec>> = {
  ...ROUTE_TYPES,
  ...CONFIG_TYPES,
  ...STRATEGY_TYPES,
  ...DEEP_TYPES,
  ...HOOK_TYPES,
};

export type BodyShape = 'crawl' | 'md' | 'html' | 'screenshot' | 'pdf' | 'execute_js' | 'job' | 'ask';

/** The table type of a route's body. */
export function bodyType(shape: BodyShape): string {
  return `body:${shape}`;
}

/** Permission a type needs before any of its fields (LLMConfig → crawl:llm), or undefined. */
export function typePermission(type: string): Permission | undefined {
  return TYPES[type]?.permission;
}
