/**
 * Runs a policy-checked request on an edge engine (contract: src/crawl/types.ts) and shapes the
 * answer like the matching Crawl4AI endpoint, so clients cannot tell which engine served them.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { tenantOf } from '../auth/principal';
import { getEdgeEngine } from '../engines';
import type { CrawlResult, EdgeCrawlOptions, EdgeEngineKind } from './types';
import type { CrawlRoute } from './policy';
import { crawlWithinBudget } from '../engines/response-budget';
import { edgeGate } from '../polite/request-gate';
import { meterPage, meterPages } from '../metering/meter';
import { edgeHookActions } from '../engines/hook-actions';

function params(v: unknown): Record<string, unknown> {
  if (v && typeof v === 'object' && 'params' in v) {
    const p = (v as { params?: unknown }).params;
    if (p && typeof p === 'object' && !Array.isArray(p)) return p as Record<string, unknown>;
  }
  return {};
}

/** Engine options from a Crawl4AI body (its `browser_config` / `crawler_config` params); shared with the jobs consumer. */
export function edgeOptions(
  body: Record<string, unknown>,
  allowPrivateTargets: boolean,
  signal?: AbortSignal,
  strictHooks = false,
): EdgeCrawlOptions {
  const hooks = edgeHookActions(body, strictHooks);
  return {
    browserParams: params(body.browser_config),
    crawlerParams: params(body.crawler_config),
    allowPrivateTargets,
    ...(signal ? { signal } : {}),
    ...(hooks.length ? { hooks } : {}),
  };
}

function options(c: Context<AppEnv>, body: Record<string, unknown>): EdgeCrawlOptions {
  const principal = c.get('principal');
  // A hook action the edge does not run is a 422 here, before any page is loaded.
  const opts = edgeOptions(body, c.get('config').ALLOW_PRIVATE_TARGETS, c.req.raw.signal, true);
  let background: EdgeCrawlOptions['background'];
  try {
    const ctx = c.executionCtx;
    background = (work) => ctx.waitUntil(work);
  } catch {
    background = undefined; // no ExecutionContext (a direct app.request in tests): all work before the response
  }
  return {
    ...opts,
    ...(principal ? { tenant: tenantOf(principal) } : {}),
    polite: edgeGate(c, body),
    ...(background ? { background } : {}),
  };
}

/** The page caps that applied, for the single-page answers (`/md`, `/html`). */
function warningsOf(r: CrawlResult): { warnings?: CrawlResult['warnings'] } {
  return r.warnings?.length ? { warnings: r.warnings } : {};
}

async function first(it: AsyncIterable<CrawlResult>): Promise<CrawlResult> {
  for await (const r of it) return r;
  throw new Error('the edge engine returned no result');
}

/** `/crawl/stream` at the edge: NDJSON, one result a line, then `{"status":"completed"}`. */
function ndjson(results: AsyncIterable<CrawlResult>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const it = results[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await it.next();
      if (next.done) {
        controller.enqueue(enc.encode(JSON.stringify({ status: 'completed' }) + '\n'));
        controller.close();
      } else {
        controller.enqueue(enc.encode(JSON.stringify(next.value) + '\n'));
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/** The edge answer for one route. `stream` selects NDJSON for `/crawl/stream`. */
export async function runOnEdge(
  c: Context<AppEnv>,
  kind: EdgeEngineKind,
  route: CrawlRoute,
  body: Record<string, unknown>,
  urls: string[],
  stream = false,
): Promise<Response> {
  const config = c.get('config');
  const engine = getEdgeEngine(c.env, kind, { browserTabs: config.EDGE_BROWSER_TABS, warmContexts: config.EDGE_BROWSER_WARM_CONTEXTS });
  const opts = options(c, body);
  const url = urls[0] as string;
  switch (route) {
    case 'crawl':
      // Pages are counted as the engine yields them (docs/metering.md): a cut stream pays for what it got.
      if (stream)
        return new Response(ndjson(meterPages(c, engine.crawl(urls, opts))), { headers: { 'Content-Type': 'application/x-ndjson' } });
      return crawlWithinBudget(meterPages(c, engine.crawl(urls, opts)), urls, c.get('config').EDGE_CRAWL_RESPONSE_BUDGET_BYTES);
    case 'md': {
      const r = await first(meterPages(c, engine.crawl([url], opts)));
      const f = typeof body.f === 'string' ? body.f : 'fit';
      const markdown = f === 'raw' ? r.markdown?.raw_markdown : r.markdown?.fit_markdown || r.markdown?.raw_markdown;
      return Response.json({
        url,
        filter: f,
        query: body.q ?? null,
        cache: body.c ?? '0',
        markdown: markdown ?? '',
        success: r.success,
        ...warningsOf(r),
      });
    }
    case 'html': {
      const r = await first(meterPages(c, engine.crawl([url], opts)));
      return Response.json({ html: r.cleaned_html || r.html, url, success: r.success, ...warningsOf(r) });
    }
    case 'screenshot': {
      const r = await engine.screenshot(url, opts);
      meterPage(c, r.success);
      return Response.json({ success: r.success, screenshot: r.screenshot });
    }
    case 'pdf': {
      const r = await engine.pdf(url, opts);
      meterPage(c, r.success);
      return Response.json({ success: r.success, pdf: r.pdf });
    }
    case 'execute_js': {
      const scripts = Array.isArray(body.scripts) ? body.scripts.map(String) : [];
      const r = await engine.executeJs(url, scripts, opts);
      meterPage(c, r.success === true);
      return Response.json(r);
    }
    case 'job':
      throw new Error('jobs run on the origin only');
  }
}
