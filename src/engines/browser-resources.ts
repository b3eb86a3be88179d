/**
 * Which sub-resources a browser tab does not download. Text outputs (`/crawl`, `/crawl/stream`,
 * `/md`, `/html`, jobs) read the rendered DOM, so images, media and fonts are pure cost: they are
 * blocked unless the request needs them. Names are Crawl4AI's own:
 *  - `browser_config.params.text_mode`: `false` loads everything (Crawl4AI's default browser);
 *    `true` blocks images/media/fonts even for screenshots and PDFs (as Crawl4AI's text mode does).
 *  - `browser_config.params.avoid_css: true` also blocks stylesheets.
 *  - `crawler_config.params.wait_for_images: true`, `screenshot: true` or `pdf: true` mean the
 *    page's pictures matter, so nothing is blocked by default.
 * Blocking never weakens the egress policy: a blocked request is aborted before it leaves the
 * browser, exactly like a refused one. Pure: no I/O.
 */
import type { EdgeCrawlOptions } from '../crawl/types';
import { hookBlockedResources } from './hook-actions';

/** Puppeteer's `HTTPRequest.resourceType()` values this module may block. */
export type BlockableResource = 'image' | 'media' | 'font' | 'stylesheet';

const HEAVY: readonly BlockableResource[] = ['image', 'media', 'font'];

/**
 * The resource types to abort for one request. `visual`: the route's output is a picture of the
 * page (`/screenshot`, `/pdf`) or scripts that may inspect it (`/execute_js`).
 */
export function blockedResources(
  options: Pick<EdgeCrawlOptions, 'browserParams' | 'crawlerParams' | 'hooks'>,
  visual: boolean,
): ReadonlySet<BlockableResource> {
  const browser = options.browserParams ?? {};
  const crawler = options.crawlerParams ?? {};
  const wantsPictures = visual || crawler.screenshot === true || crawler.pdf === true || crawler.wait_for_images === true;
  const textMode = browser.text_mode === true || (browser.text_mode !== false && !wantsPictures);
  const blocked = new Set<BlockableResource>(textMode ? HEAVY : []);
  if (browser.avoid_css === true) blocked.add('stylesheet');
  for (const type of hookBlockedResources(options.hooks)) blocked.add(type); // Crawl4AI 0.9 `block_resources` hook
  return blocked;
}
