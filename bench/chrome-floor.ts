// npm run bench:chrome-floor — what this machine's Chrome alone can do, with no gateway in the way:
// the browser-engine counterpart of bench/floor-worker. It launches the same Chromium that
// `npm run bench:crawl` gets from miniflare (the launcher scripts/setup-chromium.mjs writes, with the
// flags miniflare passes that change Chrome's work), opens one incognito context with N tabs (as the
// browser engine does for one request) and renders the bench's fixture pages straight over the
// DevTools protocol, in two modes:
//   bare       Page.enable only; per page Page.navigate, wait for DOMContentLoaded, read the HTML.
//              The least a browser engine can ask of Chrome for one rendered page.
//   puppeteer  what @cloudflare/puppeteer sets up for a tab and the engine asks on top (page.ts,
//              browser-page.ts): lifecycle events, Runtime, Network, Log and Performance domains, the
//              utility world on every document, request interception (Fetch) with the cache off,
//              images aborted, viewport and user agent; per page the same navigate / DCL / HTML.
// Prints pages/s and Chrome's CPU per page (its whole process tree, renderers included) per mode,
// and the ceiling that CPU puts on any crawl through Chrome here: cores × 1000 / CPU ms per page.
// Each mode runs the pages as one request (one context, like /crawl/stream) and as requests of
// --batch pages one after another (a fresh context and tabs each, like /crawl in batches).
// Options: --pages N (300), --tabs N (4), --batch N (25), --modes bare,puppeteer, --rounds N (2, interleaved).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSiteServer } from '../test/helpers/site-server';
// @ts-expect-error plain ESM helper without types
import { treeCpuMeter } from './lib.mjs';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? String(process.argv[i + 1]) : dflt;
};
const PAGES = Number(arg('pages', '300'));
const TABS = Number(arg('tabs', '4'));
const ROUNDS = Number(arg('rounds', '2'));
const BATCH = Number(arg('batch', '25'));
const MODES = arg('modes', 'bare,puppeteer').split(',') as Mode[];
type Mode = 'bare' | 'puppeteer';

/** The launcher miniflare starts (scripts/setup-chromium.mjs), else Debian's chromium. */
function chromePath(): string {
  const base = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), '.wrangler', 'chrome');
  for (const dir of existsSync(base) ? readdirSync(base) : []) {
    const p = path.join(base, dir, 'chrome-linux64', 'chrome');
    if (existsSync(p)) return p;
  }
  return '/usr/bin/chromium';
}

/** The flags of miniflare's launch that change what Chrome does per page (node_modules/miniflare). */
const FLAGS = [
  '--headless=new',
  '--hide-scrollbars',
  '--mute-audio',
  '--enable-automation',
  '--disable-extensions',
  '--disable-dev-shm-usage',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--disable-background-timer-throttling',
  '--disable-ipc-flooding-protection',
  '--disable-features=Translate,AcceptCHFrame,MediaRouter,OptimizationHints,ProcessPerSiteUpToMainFrameThreshold,IsolateSandboxedIframes',
  '--force-color-profile=srgb',
  '--remote-debugging-port=0',
];

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
};

/** A DevTools protocol connection over the browser's WebSocket (flat sessions). */
async function connect(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  let next = 1;
  const pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(m: Message) => void>();
  ws.addEventListener('message', (ev) => {
    const m = JSON.parse(String(ev.data)) as Message;
    if (m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.message));
      else p?.resolve(m);
    } else for (const l of listeners) l(m);
  });
  return {
    send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      return new Promise((resolve, reject) => pending.set(id, { resolve: (m) => resolve(m.result ?? {}), reject }));
    },
    on(l: (m: Message) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: () => ws.close(),
  };
}
type Cdp = Awaited<ReturnType<typeof connect>>;

async function openTab(cdp: Cdp, contextId: string, mode: Mode): Promise<string> {
  const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank', browserContextId: contextId })) as { targetId: string };
  const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
  const s = (method: string, params: Record<string, unknown> = {}) => cdp.send(method, params, sessionId);
  if (mode === 'bare') {
    await s('Page.enable');
    return sessionId;
  }
  await Promise.all([
    s('Page.enable'),
    s('Page.getFrameTree'),
    s('Page.setLifecycleEventsEnabled', { enabled: true }),
    s('Runtime.enable'),
    s('Network.enable'),
    s('Performance.enable'),
    s('Log.enable'),
    s('Page.addScriptToEvaluateOnNewDocument', { source: '//# sourceURL=pptr:internal', worldName: '__puppeteer_utility_world__' }),
    s('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }),
  ]);
  await Promise.all([
    s('Emulation.setDeviceMetricsOverride', { width: 1280, height: 720, deviceScaleFactor: 1, mobile: false }),
    s('Network.setUserAgentOverride', { userAgent: 'Mozilla/5.0 (compatible; crawlgate-bench)' }),
    s('Fetch.enable', { handleAuthRequests: true, patterns: [{ urlPattern: '*' }] }),
    s('Network.setCacheDisabled', { cacheDisabled: true }),
  ]);
  // Request interception as the engine does it: images aborted, everything else continued.
  cdp.on((m) => {
    if (m.sessionId !== sessionId || m.method !== 'Fetch.requestPaused') return;
    const p = m.params as { requestId: string; resourceType: string };
    const reply =
      p.resourceType === 'Image'
        ? s('Fetch.failRequest', { requestId: p.requestId, errorReason: 'BlockedByClient' })
        : s('Fetch.continueRequest', { requestId: p.requestId });
    reply.catch(() => undefined);
  });
  return sessionId;
}

async function render(cdp: Cdp, sessionId: string, url: string): Promise<number> {
  const loaded = new Promise<void>((resolve) => {
    const off = cdp.on((m) => {
      if (m.sessionId === sessionId && m.method === 'Page.domContentEventFired') {
        off();
        resolve();
      }
    });
  });
  await cdp.send('Page.navigate', { url }, sessionId);
  await loaded;
  const r = (await cdp.send('Runtime.evaluate', { expression: 'document.documentElement.outerHTML', returnByValue: true }, sessionId)) as {
    result: { value: string };
  };
  if (process.env.DEBUG_FLOOR) console.log(url, r.result.value.slice(0, 200));
  // Counted only when the page's own text is there (not about:blank or an error page).
  return r.result.value.includes('Paragraph 1 of article') ? 1 : 0;
}

/** One context with TABS tabs renders `urls` (as one engine request does); the context is then disposed. */
async function request(cdp: Cdp, mode: Mode, urls: string[]): Promise<number> {
  const { browserContextId } = (await cdp.send('Target.createBrowserContext', { disposeOnDetach: true })) as { browserContextId: string };
  const sessions = await Promise.all(Array.from({ length: Math.min(TABS, urls.length) }, () => openTab(cdp, browserContextId, mode)));
  let i = 0;
  let rendered = 0;
  await Promise.all(
    sessions.map(async (sid) => {
      while (i < urls.length) {
        const ok = await render(cdp, sid, urls[i++]!);
        rendered += ok;
      }
    }),
  );
  await cdp.send('Target.disposeBrowserContext', { browserContextId });
  return rendered;
}

/** All `urls` in one request (`batch` 0, like /crawl/stream) or in requests of `batch` pages one after another (like /crawl). */
async function run(cdp: Cdp, mode: Mode, urls: string[], chromePid: number, batch = 0) {
  const meter = treeCpuMeter(chromePid);
  const cpu0 = meter.total();
  const t0 = performance.now();
  let rendered = 0;
  const size = batch > 0 ? batch : urls.length;
  for (let i = 0; i < urls.length; i += size) rendered += await request(cdp, mode, urls.slice(i, i + size));
  const secs = (performance.now() - t0) / 1000;
  const cpu = meter.total() - cpu0;
  meter.stop();
  if (rendered !== urls.length) throw new Error(`${urls.length - rendered} of ${urls.length} pages did not render their article`);
  return { pagesPerSec: urls.length / secs, cpuMsPerPage: (cpu * 1000) / urls.length };
}

async function main() {
  const site = await startSiteServer();
  const urls = Array.from({ length: PAGES }, (_, i) => `http://127.0.0.1:${site.port}/pages/${i + 1}`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'cg-chrome-floor-'));
  // Its own process group, so the whole tree (zygotes, renderers, GPU and utility processes) is stopped at the end.
  const chrome = spawn(chromePath(), [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => chrome.once('exit', () => resolve()));
  const wsUrl = await new Promise<string>((resolve, reject) => {
    let err = '';
    chrome.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    chrome.on('exit', (code) => reject(new Error(`chrome exited (${code}): ${err.slice(-500)}`)));
  });
  const cdp = await connect(wsUrl);
  const rows: string[] = [];
  try {
    await run(cdp, 'bare', urls.slice(0, 8), chrome.pid!); // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of MODES) {
        for (const batch of [0, BATCH]) {
          const load = os.loadavg()[0]!.toFixed(1);
          const r = await run(cdp, mode, urls, chrome.pid!, batch);
          const ceiling = (os.cpus().length * 1000) / r.cpuMsPerPage;
          const shape = batch ? `requests of ${batch} pages` : 'one request';
          rows.push(
            `| ${round} | ${mode} | ${shape} | ${r.pagesPerSec.toFixed(2)} | ${r.cpuMsPerPage.toFixed(1)} | ${ceiling.toFixed(1)} | ${load} |`,
          );
        }
      }
    }
  } finally {
    cdp.close();
    process.kill(-chrome.pid!, 'SIGKILL');
    await exited;
    await site.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
  console.log(
    `\nChrome alone (no gateway, no workerd): ${PAGES} fixture pages, ${TABS} tabs in one incognito context, ${os.cpus().length} cores\n`,
  );
  console.log('| round | mode | pages in | pages/s | Chrome CPU ms / page | ceiling pages/s (cores × 1000 / CPU) | load avg at start |');
  console.log('|---|---|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
