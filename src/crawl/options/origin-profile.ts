/**
 * Origin profiles (config `ORIGIN_PROFILE`, docs/crawling.md "Origin profile"): what the Crawl4AI
 * release behind `ORIGIN_URL` accepts, applied to a body the crawl-option policy already checked.
 *
 * `crawl4ai-0.9` follows the 0.9 server's untrusted-input gate (crawl4ai/async_configs.py
 * `UNTRUSTED_FORBIDDEN_FIELDS`, `UNTRUSTED_FIELD_ALLOWLIST`, `UNTRUSTED_ALLOWED_TYPES`, checked
 * against 0.9.2; deploy/docker/MIGRATION.md "Request bodies accept declarative options only"):
 * a power field or a type it would refuse with 400 is refused here first, with the same words,
 * so the origin is never called for a request it would turn down; a field it would drop is
 * dropped; timeouts are clamped as it clamps them. `crawl4ai-0.8` forwards the policy's body as is.
 * Pure: no I/O.
 */
import type { Permission } from '../../auth/rbac';
import { GatewayError } from '../../http/errors';
import type { BodyShape } from './table';

export const ORIGIN_PROFILES = ['crawl4ai-0.9', 'crawl4ai-0.8'] as const;
export type OriginProfile = (typeof ORIGIN_PROFILES)[number];

type Plain = Record<string, unknown>;

/** Types a 0.9 request body may construct (async_configs.py UNTRUSTED_ALLOWED_TYPES). */
const ALLOWED_TYPES = new Set([
  'CrawlerRunConfig',
  'BrowserConfig',
  'HTTPCrawlerConfig',
  'GeolocationConfig',
  'VirtualScrollConfig',
  'LinkPreviewConfig',
  'JsonCssExtractionStrategy',
  'JsonXPathExtractionStrategy',
  'JsonLxmlExtractionStrategy',
  'RegexExtractionStrategy',
  'CosineStrategy',
  'DefaultMarkdownGenerator',
  'PruningContentFilter',
  'BM25ContentFilter',
  'LXMLWebScrapingStrategy',
  'PDFContentScrapingStrategy',
  'RegexChunking',
  'DefaultTableExtraction',
  'NoTableExtraction',
  'CacheMode',
  'MatchMode',
  'DisplayMode',
  // `{"type": "dict", "value": {...}}` is Crawl4AI's serialised plain dict, not a constructed class.
  'dict',
]);

/** Fields a 0.9 request may never set: presence → 400 (UNTRUSTED_FORBIDDEN_FIELDS). */
const FORBIDDEN: Record<'BrowserConfig' | 'CrawlerRunConfig', ReadonlySet<string>> = {
  BrowserConfig: new Set([
    'proxy',
    'proxy_config',
    'extra_args',
    'user_data_dir',
    'channel',
    'chrome_channel',
    'cdp_url',
    'debugging_port',
    'host',
    'storage_state',
    'cookies',
    'headers',
    'init_scripts',
    'browser_context_id',
    'target_id',
  ]),
  CrawlerRunConfig: new Set([
    'js_code',
    'js_code_before_wait',
    'c4a_script',
    'deep_crawl_strategy',
    'proxy_config',
    'proxy_rotation_strategy',
    'proxy_session_id',
    'proxy_session_ttl',
    'proxy_session_auto_release',
    'fallback_fetch_function',
    'experimental',
    'base_url',
    'simulate_user',
    'override_navigator',
    'magic',
    'process_in_browser',
    'shared_data',
    'session_id',
  ]),
};

/** Fields a 0.9 request may set (UNTRUSTED_FIELD_ALLOWLIST); any other field is dropped by the origin, so by us. */
const KEPT: Record<'BrowserConfig' | 'CrawlerRunConfig', ReadonlySet<string>> = {
  BrowserConfig: new Set([
    'browser_type',
    'headless',
    'browser_mode',
    'viewport_width',
    'viewport_height',
    'viewport',
    'device_scale_factor',
    'accept_downloads',
    'java_script_enabled',
    'text_mode',
    'light_mode',
    'enable_stealth',
    'avoid_ads',
    'avoid_css',
    'user_agent',
    'user_agent_mode',
    'user_agent_generator_config',
    'verbose',
    'memory_saving_mode',
    'max_pages_before_recycle',
  ]),
  CrawlerRunConfig: new Set([
    'word_count_threshold',
    'only_text',
    'css_selector',
    'target_elements',
    'excluded_tags',
    'excluded_selector',
    'keep_data_attributes',
    'keep_attrs',
    'remove_forms',
    'prettiify',
    'parser_type',
    'extraction_strategy',
    'chunking_strategy',
    'markdown_generator',
    'scraping_strategy',
    'table_extraction',
    'locale',
    'timezone_id',
    'geolocation',
    'cache_mode',
    'bypass_cache',
    'disable_cache',
    'no_cache_read',
    'no_cache_write',
    'check_cache_freshness',
    'cache_validation_timeout',
    'fetch_ssl_certificate',
    'wait_until',
    'page_timeout',
    'wait_for',
    'wait_for_timeout',
    'wait_for_images',
    'delay_before_return_html',
    'mean_delay',
    'max_range',
    'ignore_body_visibility',
    'scan_full_page',
    'scroll_delay',
    'max_scroll_steps',
    'process_iframes',
    'flatten_shadow_dom',
    'remove_overlay_elements',
    'remove_consent_popups',
    'adjust_viewport_to_content',
    'virtual_scroll_config',
    'screenshot',
    'screenshot_wait_for',
    'screenshot_height_threshold',
    'force_viewport_screenshot',
    'pdf',
    'capture_mhtml',
    'image_description_min_word_threshold',
    'image_score_threshold',
    'table_score_threshold',
    'exclude_external_images',
    'exclude_all_images',
    'exclude_social_media_domains',
    'exclude_external_links',
    'exclude_social_media_links',
    'exclude_domains',
    'exclude_internal_links',
    'score_links',
    'preserve_https_for_internal_links',
    'link_preview_config',
    'verbose',
    'log_console',
    'capture_network_requests',
    'capture_console_messages',
    'method',
    'stream',
    'prefetch',
    'url',
    'check_robots_txt',
    'user_agent',
    'user_agent_mode',
    'user_agent_generator_config',
    'url_matcher',
    'match_mode',
    'max_retries',
  ]),
};

/** Fields the gateway's browser engine runs itself (the hint in the refusal, for holders of crawl:js). */
const EDGE_RUNS = new Set(['js_code']);

const MAX_TIMEOUT_MS = 60_000;
const MAX_SCROLL_STEPS = 1000;
const MAX_VIEWPORT = 4000;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Refusal {
  path: string;
  message: string;
  field: string;
}

/** The refusal the client sees: 400 `origin_refuses_field`, Crawl4AI's own words, every path listed. */
function refusal(profile: OriginProfile, found: Refusal[], permissions: readonly Permission[]): GatewayError {
  const first = found[0] as Refusal;
  const edgeHint = permissions.includes('crawl:js') && found.some((f) => EDGE_RUNS.has(f.field));
  const hint = edgeHint ? '; "engine":"browser" runs it at the edge' : '';
  const detail = `${first.message} (the ${profile} origin refuses it; the gateway did not forward the request)${hint}`;
  return new GatewayError('origin_refuses_field', detail, {
    extras: {
      origin_profile: profile,
      errors: found.map(({ path, message }) => ({ path, message })),
      ...(edgeHint ? { engine_hint: 'browser' } : {}),
    },
  });
}

class Gate09 {
  readonly found: Refusal[] = [];

  refuse(path: string, field: string, message: string): void {
    if (this.found.length < 50) this.found.push({ path, field, message });
  }

  /** A `{type, params}` object, a `{"type":"dict"}` wrapper, or plain data: nested types must be allowed. */
  nested(v: unknown, path: string): unknown {
    if (Array.isArray(v)) return v.map((item, i) => this.nested(item, `${path}[${i}]`));
    if (!isPlain(v)) return v;
    if (typeof v.type === 'string' && (Object.hasOwn(v, 'params') || Object.hasOwn(v, 'value'))) {
      if (!ALLOWED_TYPES.has(v.type)) {
        this.refuse(`${path}.type`, v.type, `type '${v.type}' may not be constructed from an untrusted request`);
        return v;
      }
      if (v.type === 'CrawlerRunConfig' || v.type === 'BrowserConfig') return this.config(v.type, v, path);
    }
    const out: Plain = {};
    for (const [k, item] of Object.entries(v)) out[k] = this.nested(item, `${path}.${k}`);
    return out;
  }

  /** A BrowserConfig / CrawlerRunConfig, typed (`{type, params}`) or as bare params. */
  config(type: 'BrowserConfig' | 'CrawlerRunConfig', v: unknown, path: string): unknown {
    if (!isPlain(v)) return v;
    const typedForm = typeof v.type === 'string' && isPlain(v.params);
    const params = typedForm ? (v.params as Plain) : v;
    const base = typedForm ? `${path}.params` : path;
    const out: Plain = {};
    for (const [k, item] of Object.entries(params)) {
      if (FORBIDDEN[type].has(k)) {
        this.refuse(`${base}.${k}`, k, `field '${k}' is not permitted on ${type} from an untrusted request`);
        continue;
      }
      if (!KEPT[type].has(k)) continue;
      out[k] = this.nested(item, `${base}.${k}`);
    }
    clamp(type, out);
    return typedForm ? { type: v.type, params: out } : out;
  }
}

/** What the 0.9 origin does to the quantities it clamps (`_clamp_untrusted`). */
function clamp(type: 'BrowserConfig' | 'CrawlerRunConfig', p: Plain): void {
  if (type === 'CrawlerRunConfig') {
    for (const f of ['page_timeout', 'wait_for_timeout']) {
      if (!(f in p)) continue;
      const v = p[f];
      p[f] = typeof v !== 'number' || v <= 0 ? MAX_TIMEOUT_MS : Math.min(Math.trunc(v), MAX_TIMEOUT_MS);
    }
    if (typeof p.max_scroll_steps === 'number') p.max_scroll_steps = Math.min(p.max_scroll_steps, MAX_SCROLL_STEPS);
  } else {
    for (const f of ['viewport_width', 'viewport_height']) {
      if (typeof p[f] === 'number') p[f] = Math.max(1, Math.min(p[f] as number, MAX_VIEWPORT));
    }
  }
}

/**
 * The body to forward to an origin of `profile`, or the 400 it would answer. `body` is the
 * crawl-option policy's rebuild (only allowed fields, already permission-checked).
 */
export function applyOriginProfile(
  profile: OriginProfile,
  shape: BodyShape | 'config' | 'llm_job',
  body: Record<string, unknown>,
  permissions: readonly Permission[],
): Record<string, unknown> {
  if (profile === 'crawl4ai-0.8') return body;
  const gate = new Gate09();
  const out: Plain = { ...body };
  if (shape === 'config') {
    const type = body.type === 'BrowserConfig' ? 'BrowserConfig' : 'CrawlerRunConfig';
    const r = gate.config(type, body, '$');
    if (gate.found.length > 0) throw refusal(profile, gate.found, permissions);
    return r as Plain;
  }
  if ('browser_config' in out) out.browser_config = gate.config('BrowserConfig', out.browser_config, '$.browser_config');
  if ('crawler_config' in out) out.crawler_config = gate.config('CrawlerRunConfig', out.crawler_config, '$.crawler_config');
  if (Array.isArray(out.crawler_configs))
    out.crawler_configs = out.crawler_configs.map((cfg, i) => gate.config('CrawlerRunConfig', cfg, `$.crawler_configs[${i}]`));
  const hooks = out.hooks;
  if (isPlain(hooks) && hooks.code !== undefined && hooks.code !== null) {
    gate.refuse(
      '$.hooks.code',
      'hooks.code',
      'hooks.code (Python hook source) is no longer accepted; use declarative actions in hooks.hooks (GET /hooks/info)',
    );
  }
  if ('base_url' in out) gate.refuse('$.base_url', 'base_url', 'base_url is not accepted; select an LLM provider by name');
  if (gate.found.length > 0) throw refusal(profile, gate.found, permissions);
  return out;
}
