/**
 * Warm contexts: the tenant's next request's incognito context, prepared after the previous
 * request (in `waitUntil`, before its session is filed back) so that the next request attaches to
 * ready tabs instead of starting their renderer processes on its critical path — opening a tab in a
 * fresh context is the browser engine's largest fixed cost (docs/performance.md "Browser engine").
 *
 * Isolation: a warm context is created *after* the previous request's pages, as a new incognito
 * context, and never navigated (its tabs stay on `about:blank`), so it holds no cookie, storage or
 * cache entry of anyone. Everything a request sets up on a tab (user agent, viewport, request
 * interception with the egress check) belongs to the DevTools connection and ends with it, so the
 * request applies its own settings on attach (browser-page.ts `openTab` with the blank tab). On attach the session
 * is checked: besides the default context only the warm one may exist, and every tab of it must
 * still be blank; otherwise the session is closed, never used (browser-session.ts).
 */
import type { Browser, BrowserContext, Page } from '@cloudflare/puppeteer';

/** A warm context as the request receives it: the context and its blank, not yet configured tabs. */
export interface WarmContext {
  context: BrowserContext;
  pages: Page[];
}

/** Creates a fresh incognito context with `tabs` blank tabs (renderers started); answers its id. */
export async function prepareWarmContext(browser: Browser, tabs: number): Promise<string> {
  const context = await browser.createBrowserContext();
  try {
    await Promise.all(Array.from({ length: Math.max(1, tabs) }, () => context.newPage()));
  } catch (error) {
    await context.close().catch(() => undefined);
    throw error;
  }
  return context.id!;
}

/**
 * The warm context `id` of a just-connected session, checked: throws when the session holds any
 * other non-default context or a warm tab that left `about:blank` (the caller closes the session).
 * Null when none was filed or it is gone (the request creates a context as usual).
 */
export async function adoptWarmContext(browser: Browser, id: string | null): Promise<WarmContext | null> {
  const others = browser.browserContexts().filter((ctx) => ctx !== browser.defaultBrowserContext());
  const context = id === null ? undefined : others.find((ctx) => ctx.id === id);
  if (others.length !== (context ? 1 : 0)) throw new Error('a reused browser session holds an unknown context');
  if (!context) return null;
  const pages = await context.pages();
  if (pages.some((page) => page.url() !== 'about:blank')) throw new Error('a warm browser context was navigated');
  return { context, pages };
}
