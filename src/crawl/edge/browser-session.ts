/**
 * Browser sessions from the Browser Rendering binding. A request takes one session for all its
 * URLs; afterwards the session is *disconnected*, not closed, so the next request (in any isolate)
 * can pick it up through `sessions()` + `connect(sessionId)` instead of paying a new launch. Any
 * unexpected error closes the session instead: a browser in an unknown state is never reused.
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

export interface LeasedBrowser {
  browser: Browser;
  sessionId: string;
  /** Ends the lease: `disconnect` keeps the session for reuse, `close` ends it. */
  release(outcome: 'ok' | 'error'): Promise<void>;
}

/**
 * Sessions this isolate handed back. A hint only (each isolate has its own): local miniflare keeps
 * reporting a `connectionId` after a disconnect, so `sessions()` alone would never offer them.
 */
const releasedHere: string[] = [];

async function reuseFreeSession(binding: BrowserBinding): Promise<{ browser: Browser; sessionId: string } | null> {
  let active: { sessionId: string; connectionId?: string }[];
  try {
    active = await puppeteer.sessions(binding);
  } catch {
    return null;
  }
  const alive = new Set(active.map((s) => s.sessionId));
  const mine = releasedHere.splice(0).filter((id) => alive.has(id));
  const free = active.filter((s) => !s.connectionId && !mine.includes(s.sessionId)).map((s) => s.sessionId);
  for (const sessionId of [...mine, ...free]) {
    try {
      // Another request may hold the session; then connecting fails and we try the next one.
      return { browser: await puppeteer.connect(binding, sessionId), sessionId };
    } catch {
      continue;
    }
  }
  return null;
}

/** Takes a free session or launches one; the caller must `release` it (try/finally). */
export async function leaseBrowser(binding: BrowserBinding, onEvent?: (event: SessionEvent) => void): Promise<LeasedBrowser> {
  const reused = await reuseFreeSession(binding);
  const browser = reused?.browser ?? (await puppeteer.launch(binding, { keep_alive: SESSION_KEEP_ALIVE_MS }));
  const sessionId = reused?.sessionId ?? browser.sessionId();
  onEvent?.({ type: reused ? 'reused' : 'launched', sessionId });
  let released: Promise<void> | null = null;
  const end = async (outcome: 'ok' | 'error') => {
    if (outcome === 'ok' && browser.isConnected()) {
      await browser.disconnect().catch(() => undefined);
      releasedHere.push(sessionId);
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
