/**
 * Edge engines: what the crawl routes call when they crawl in the Worker instead of forwarding
 * to ORIGIN_URL. `fetch` needs nothing; `browser` needs the Browser Rendering binding.
 */
import type { Env } from '../env';
import type { EdgeEngine, EdgeEngineKind } from '../crawl/types';
import { GatewayError } from '../http/errors';
import { createBrowserEngine } from './browser-engine';
import { createFetchEngine } from './fetch-engine';
import type { BrowserBinding } from './browser-session';

/** The engine of the given kind; 503 when `browser` is asked for without a BROWSER binding. */
export function getEdgeEngine(env: Env, kind: EdgeEngineKind, limits: { browserTabs?: number; warmContexts?: boolean } = {}): EdgeEngine {
  if (kind === 'fetch') return createFetchEngine();
  if (!env.BROWSER) {
    throw new GatewayError(
      'service_unavailable',
      'The browser engine needs the BROWSER (Browser Rendering) binding; use "engine":"fetch" or set ORIGIN_URL',
    );
  }
  return createBrowserEngine(env.BROWSER as unknown as BrowserBinding, {
    ...(limits.browserTabs ? { concurrency: limits.browserTabs } : {}),
    ...(limits.warmContexts === false ? { warmContexts: false } : {}),
  });
}

export { createBrowserEngine } from './browser-engine';
export { createFetchEngine } from './fetch-engine';
export { EDGE_LIMITS } from './crawl-options';
