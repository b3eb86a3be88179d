/**
 * Browser sessions from the Browser Rendering binding, reused only within one tenant.
 * A request takes one session; afterwards the session is *disconnected*, not closed, and filed
 * under the tenant that used it, so that tenant's next request in this isolate connects to it
 * (`connect(sessionId)`) instead of paying a new launch. A session is never offered to another
 * tenant, and sessions other isolates handed back are never picked up (their tenant is unknown):
 * reuse is a speed-up, isolation is not negotiable. A request without a tenant gets a fresh
 * session that is closed afterwards. Any unexpected error closes the session: a browser in an
 * unknown state is never reused. Storage isolation inside a session is the engine's incognito
 * context per request (browser-engine.ts); this module only decides who may share a process.
 */
import puppeteer, { type Browser } from '@cloudflare/puppeteer';

/** What tests and metrics can observe of a session's life. */
export interface SessionEvent {
  type: 'launched' | 'reused' | 'disconnected' | 'closed';
  sessionId: string;
}

export type BrowserBinding = Parameters<typeof puppeteer.launch>[0];

/** How long an idle session stays alive for reuse (Browser Rendering's `keep_alive`, ms). */
export const SESSION_KEEP_ALIVE_MS = 60_000;

/** Idle sessions kept per tenant in one isolate (more are closed, not filed). */
const MAX_IDLE_PER_TENANT = 2;

export interface LeasedBrowser {
  browser: Browser;
  sessionId: string;
  /** Ends the lease: `ok` keeps the session for the same tenant, `error` closes it. */
  release(outcome: 'ok' | 'error'): Promise<void>;
}

/** Sessions this isolate handed back, by tenant (an isolate-local hint; nothing else offers them). */
const idleByTenant = new Map<string, string[]>();

/** The tenant's most recently filed idle session, removed from the list (null: none). */
function takeIdle(tenant: string): string | null {
  const ids = idleByTenant.get(tenant);
  const id = ids?.pop() ?? null;
  if (ids && ids.length === 0) idleByTenant.delete(tenant);
  return id;
}

function hasRoom(tenant: string): boolean {
  return (idleByTenant.get(tenant)?.length ?? 0) < MAX_IDLE_PER_TENANT;
}

function fileIdle(tenant: string, sessionId: string): void {
  idleByTenant.set(tenant, [...(idleByTenant.get(tenant) ?? []), sessionId]);
}

/**
 * Connects to one of the tenant's idle sessions, newest first (the least likely to have hit its
 * keep-alive), or answers null. No `sessions()` listing first: connecting to a session that has
 * expired fails at once, so a listing would only add a round trip to every request.
 */
async function reuseTenantSession(binding: BrowserBinding, tenant: string): Promise<{ browser: Browser; sessionId: string } | null> {
  for (let sessionId = takeIdle(tenant); sessionId !== null; sessionId = takeIdle(tenant)) {
    try {
      return { browser: await puppeteer.connect(binding, sessionId), sessionId };
    } catch {
      continue;
    }
  }
  return null;
}

/**
 * Takes one of `tenant`'s idle sessions or launches one; the caller must `release` it
 * (try/finally). `tenant` null: a fresh session, closed on release.
 */
export async function leaseBrowser(
  binding: BrowserBinding,
  tenant: string | null,
  onEvent?: (event: SessionEvent) => void,
): Promise<LeasedBrowser> {
  const reused = tenant === null ? null : await reuseTenantSession(binding, tenant);
  const browser = reused?.browser ?? (await puppeteer.launch(binding, { keep_alive: SESSION_KEEP_ALIVE_MS }));
  const sessionId = reused?.sessionId ?? browser.sessionId();
  onEvent?.({ type: reused ? 'reused' : 'launched', sessionId });
  let released: Promise<void> | null = null;
  const end = async (outcome: 'ok' | 'error') => {
    // Only the default context may remain: a leftover incognito context would carry state.
    const clean = browser.isConnected() && browser.browserContexts().every((ctx) => ctx === browser.defaultBrowserContext());
    // Beyond MAX_IDLE_PER_TENANT idle sessions a tenant's extra one is closed rather than left to linger.
    if (outcome === 'ok' && tenant !== null && clean && hasRoom(tenant)) {
      await browser.disconnect().catch(() => undefined);
      fileIdle(tenant, sessionId);
      onEvent?.({ type: 'disconnected', sessionId });
      return;
    }
    await browser.close().catch(() => undefined);
    onEvent?.({ type: 'closed', sessionId });
  };
  return {
    browser,
    sessionId,
    // The first call decides; later calls wait for it (the abort listener and `finally` both call).
    release: (outcome) => (released ??= end(outcome)),
  };
}
