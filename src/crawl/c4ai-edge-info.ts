/**
 * What the gateway answers itself, in edge mode, for Crawl4AI 0.9's describing routes: `GET /schema`
 * (the config objects with the defaults the edge engines use) and `GET /hooks/info` (the declarative
 * hook actions, with what the edge runs). Shapes follow deploy/docker/server.py. Pure.
 */
import { HOOK_ACTIONS_INFO } from '../engines/hook-actions';
import { EDGE_LIMITS } from '../engines/crawl-options';

/** `GET /schema` at the edge: `{browser, crawler}` as `{type, params}` objects (Crawl4AI's `dump()` form). */
export function edgeSchema(): Record<string, unknown> {
  return {
    browser: {
      type: 'BrowserConfig',
      params: {
        browser_type: 'chromium',
        headless: true,
        viewport_width: 1280,
        viewport_height: 720,
        java_script_enabled: true,
        text_mode: false,
        avoid_css: false,
        user_agent_mode: '',
      },
    },
    crawler: {
      type: 'CrawlerRunConfig',
      params: {
        cache_mode: 'bypass',
        wait_until: 'domcontentloaded',
        page_timeout: EDGE_LIMITS.defaultTimeoutMs,
        wait_for: null,
        delay_before_return_html: 0,
        screenshot: false,
        pdf: false,
        wait_for_images: false,
      },
    },
  };
}

/** `GET /hooks/info` at the edge (Crawl4AI's shape, plus `edge` per action). */
export function edgeHooksInfo(): Record<string, unknown> {
  return {
    available_actions: HOOK_ACTIONS_INFO,
    usage: { field: 'hooks', shape: [{ action: '<action>', params: { '...': '...' } }], max_hooks: 10 },
    timeout_limits: { min: 1, max: 120, default: 30 },
  };
}
