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
 *
 * A filed session may carry one *warm* context (browser-warm.ts): a never-navigated incognito
 * context with blank tabs, prepared after the previous request for the tenant's next one. It is
 * the only context besides the default one a filed session may hold; it lives and dies with its
 * session (closed with it, or with it when Browser Rendering ends the session after its keep-alive).
 */
import puppeteer, { type Browser } from '@cloudflare/puppeteer';
import { adoptWarmContext, type WarmContext } from './browser-warm';

export type { WarmContext } from './browser-warm';

/** What tests and metrics can observe of a session's life. */
export interface SessionEvent {
  type: 'launched' | 'reused' | 'disconnected' | 'closed';
  sessionId: string;
  /** `disconnected`: the warm context filed with the session; `reused`: the warm context the request got. */
  warmContextId?: string;
}

export type BrowserBinding = Parameters<typeof puppeteer.launch>[0];

/** How long an idle session stays alive for reuse (Browser Rendering's `keep_alive`, ms). */
export const SESSION_KEEP_ALIVE_MS = 60_000;

/** Idle sessions kept per tenant in one isolate (more are closed, not filed). */
const MAX_IDLE_PER_TENANT = 2;

/**
 * Longest wait for a session the tenant's previous request is still handing back (closing its
 * context, preparing the next one in `waitUntil`) before launching another one instead.
 */
const RELEASE_WAIT_MS = 10_000;

/** Before a kept session is filed: closes the request's context and may prepare the next one (its id). Throwing closes the session. */
export type BeforeFiling = (browser: Browser) => Promise<string | null>;

export interface LeasedBrowser {
  browser: Browser;
  sessionId: string;
  /** The context prepared for this request by the tenant's previous one; null: none (create one). */
  warm: WarmContext | null;
  /**
   * Ends the lease: `ok` keeps the session for the same tenant (after `beforeFiling`), `error`
   * closes it. The first call decides; later calls wait for it.
   */
  release(outcome: 'ok' | 'error', beforeFiling?: BeforeFiling): Promise<void>;
}

interface IdleSession {
  sessionId: string;
  warmContextId: string | null;
}

/** Sessions this isolate handed back, by tenant (an isolate-local hint; nothing else offers them). */
const idleByTenant = new Map<string, IdleSession[]>();
/** Releases still running (in `waitUntil`) that may file a session for the tenant. */
const releasingByTenant = new Map<string, Set<Promise<void>>>();

/** The tenant's most recently filed idle session, removed from the list (null: none). */
function takeIdle(tenant: string): IdleSession | null {
  const ids = idleByTenant.get(tenant);
  const id = ids?.pop() ?? null;
  if (ids && ids.length === 0) idleByTenant.delete(tenant);
  return id;
}

function hasRoom(tenant: string): boolean {
  return (idleByTenant.get(tenant)?.length ?? 0) < MAX_IDLE_PER_TENANT;
}

function fileIdle(tenant: string, idle: IdleSession): void {
  idleByTenant.set(tenant, [...(idleByTenant.get(tenant) ?? []), idle]);
}

function trackRelease(tenant: string, release: Promise<void>): void {
  const set = releasingByTenant.get(tenant) ?? new Set<Promise<void>>();
  releasingByTenant.set(tenant, set);
  set.add(release);
  void release.finally(() => {
    set.delete(release);
    if (set.size === 0 && releasingByTenant.get(tenant) === set) releasingByTenant.delete(tenant);
  });
}

/** Waits (bounded) for one of the tenant's releases in progress, when it has no idle session. */
async function awaitRelease(tenant: string): Promise<void> {
  const running = releasingByTenant.get(tenant);
  if (idleByTenant.has(tenant) || !running?.size) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.race(running),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, RELEASE_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Connects to one of the tenant's idle sessions, newest first (the least likely to have hit its
 * keep-alive), or answers null. No `sessions()` listing first: connecting to a session that has
 * expired fails at once, so a listing would only add a round trip to every request. A session
 * whose contexts are not what this isolate filed (anything besides the default context and its
 * untouched warm one) is closed, never used.
 */
async function reuseTenantSession(
  binding: BrowserBinding,
  tenant: string,
): Promise<{ browser: Browser; sessionId: string; warm: WarmContext | null } | null> {
  await awaitRelease(tenant);
  for (let idle = takeIdle(tenant); idle !== null; idle = takeIdle(tenant)) {
    let browser: Browser;
    try {
      browser = await puppeteer.connect(binding, idle.sessionId);
    } catch {
      continue;
    }
    try {
      return { browser, sessionId: idle.sessionId, warm: await adoptWarmContext(browser, idle.warmContextId) };
    } catch {
      await browser.close().catch(() => undefined);
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
  const warm = reused?.warm ?? null;
  onEvent?.({ type: reused ? 'reused' : 'launched', sessionId, ...(warm ? { warmContextId: warm.context.id! } : {}) });
  let released: Promise<void> | null = null;
  const end = async (outcome: 'ok' | 'error', beforeFiling?: BeforeFiling) => {
    let warmContextId: string | null = null;
    let keep = outcome === 'ok' && tenant !== null && browser.isConnected() && hasRoom(tenant);
    if (keep && beforeFiling) warmContextId = await beforeFiling(browser).catch(() => ((keep = false), null));
    // Only the default context and the fresh warm one may remain: a leftover request context would carry state.
    const clean = browser
      .browserContexts()
      .every((ctx) => ctx === browser.defaultBrowserContext() || (warmContextId !== null && ctx.id === warmContextId));
    // Beyond MAX_IDLE_PER_TENANT idle sessions a tenant's extra one is closed rather than left to linger.
    if (keep && tenant !== null && clean && browser.isConnected() && hasRoom(tenant)) {
      await browser.disconnect().catch(() => undefined);
      fileIdle(tenant, { sessionId, warmContextId });
      onEvent?.({ type: 'disconnected', sessionId, ...(warmContextId ? { warmContextId } : {}) });
      return;
    }
    await browser.close().catch(() => undefined);
    onEvent?.({ type: 'closed', sessionId });
  };
  return {
    browser,
    sessionId,
    warm,
    release: (outcome, beforeFiling) => {
      if (released) return released;
      released = end(outcome, beforeFiling);
      // The tenant's next request waits for a session being kept rather than launching another.
      if (tenant !== null && outcome === 'ok') trackRelease(tenant, released);
      return released;
    },
  };
}
