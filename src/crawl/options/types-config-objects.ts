/**
 * Allow-list of the small config objects `BrowserConfig` and `CrawlerRunConfig` hold (Crawl4AI
 * 0.9.2 and Playwright shapes): viewport, cookies and storage state, User-Agent generation,
 * geolocation, proxies, virtual scroll and link previews.
 */
import type { TypeSpec } from './kinds';
import { PRINTABLE, bool, capability, either, int, listOf, num, obj, oneOf, safe, str, typed } from './kinds';
import { seconds, selector, ua } from './config-fields';

export const CONFIG_OBJECT_TYPES: Record<string, TypeSpec> = {
  Viewport: {
    source: 'BrowserConfig.viewport (dict)',
    fields: { width: safe(int(100, 4000), 'width in CSS pixels'), height: safe(int(100, 4000), 'height in CSS pixels') },
  },
  Cookie: {
    source: 'Playwright cookie (BrowserConfig.cookies)',
    fields: {
      name: safe(str(256, PRINTABLE), 'cookie name'),
      value: safe(str(4096, PRINTABLE), 'cookie value'),
      url: safe({ kind: 'url' }, 'URL the cookie is for (egress-checked)'),
      domain: safe(str(253, /^\.?[A-Za-z0-9.-]{1,253}$/), 'cookie domain'),
      path: safe(str(1000, PRINTABLE), 'cookie path'),
      expires: safe(num(-1, 1e11), 'expiry (Unix seconds)'),
      httpOnly: safe(bool, 'HttpOnly'),
      secure: safe(bool, 'Secure'),
      sameSite: safe(oneOf('Strict', 'Lax', 'None'), 'SameSite'),
    },
  },
  StorageState: {
    source: 'Playwright storage state (BrowserConfig.storage_state)',
    fields: {
      cookies: safe(listOf(obj('Cookie'), 50), 'cookies'),
      origins: safe(listOf(obj('StorageOrigin'), 20), 'localStorage per origin'),
    },
  },
  StorageOrigin: {
    source: 'Playwright storage state origin',
    fields: { origin: safe({ kind: 'url' }, 'origin (egress-checked)'), localStorage: safe(listOf(obj('StorageItem'), 100), 'items') },
  },
  StorageItem: { source: 'Playwright storage state item', fields: { name: safe(str(1000), 'key'), value: safe(str(100_000), 'value') } },
  UserAgentGeneratorConfig: {
    source: 'crawl4ai.user_agent_generator.ValidUAGenerator.generate',
    fields: {
      browsers: safe(listOf(str(32, /^[a-z]+$/), 10), 'browser families'),
      os: safe(either(str(32, /^[a-z]+$/), listOf(str(32, /^[a-z]+$/), 10)), 'operating systems'),
      min_version: safe(num(0, 1000), 'minimum version'),
      platforms: safe(either(str(32, /^[a-z]+$/), listOf(str(32, /^[a-z]+$/), 10)), 'platforms'),
      pct_threshold: safe(num(0, 100), 'market-share threshold'),
      fallback: safe(ua, 'fallback User-Agent'),
    },
  },
  GeolocationConfig: {
    source: 'crawl4ai.async_configs.GeolocationConfig',
    fields: {
      latitude: safe(num(-90, 90), 'latitude'),
      longitude: safe(num(-180, 180), 'longitude'),
      accuracy: safe(num(0, 1e7), 'accuracy (m)'),
    },
  },
  ProxyConfig: {
    source: 'crawl4ai.async_configs.ProxyConfig',
    permission: 'crawl:proxy',
    fields: {
      server: capability('crawl:proxy', { kind: 'url', proxy: true }, 'proxy server (egress-checked)'),
      username: capability('crawl:proxy', str(256, PRINTABLE), 'proxy user'),
      password: capability('crawl:proxy', str(256, PRINTABLE), 'proxy password'),
      ip: capability('crawl:proxy', str(64, /^[0-9A-Fa-f.:]{2,64}$/), 'expected exit IP'),
    },
  },
  RoundRobinProxyStrategy: {
    source: 'crawl4ai.proxy_strategy.RoundRobinProxyStrategy',
    permission: 'crawl:proxy',
    fields: {
      proxies: capability(
        'crawl:proxy',
        listOf(either({ kind: 'url', proxy: true }, typed(['ProxyConfig'], 'ProxyConfig')), 50),
        'proxies to rotate (egress-checked)',
      ),
    },
  },
  VirtualScrollConfig: {
    source: 'crawl4ai.async_configs.VirtualScrollConfig',
    fields: {
      container_selector: safe(selector, 'scroll container (passed to querySelector as data)'),
      scroll_count: safe(int(1, 200), 'scrolls'),
      scroll_by: safe(either(oneOf('container_height', 'page_height'), int(1, 100_000)), 'scroll amount'),
      wait_after_scroll: safe(seconds(10), 'wait after each scroll (s)'),
    },
  },
  LinkPreviewConfig: {
    source: 'crawl4ai.async_configs.LinkPreviewConfig',
    fields: {
      include_internal: safe(bool, 'previews same-domain links'),
      include_external: safe(bool, 'previews links to other domains', {
        escalate: {
          cls: 'capability',
          permission: 'crawl:deep',
          applies: (v) => v === true,
          when: 'when true (fetches pages off the start domain)',
        },
      }),
      include_patterns: safe(listOf(str(1000), 50), 'glob patterns to include'),
      exclude_patterns: safe(listOf(str(1000), 50), 'glob patterns to exclude'),
      concurrency: safe(int(1, 20), 'heads fetched at once'),
      timeout: safe(int(1, 30), 'per-link timeout (s)'),
      max_links: safe(int(1, 200), 'links previewed'),
      query: safe(str(2000), 'BM25 query for scoring'),
      score_threshold: safe(num(0, 1), 'minimum score'),
      verbose: safe(bool, 'origin-side logging'),
    },
  },
};
