/**
 * The credit cost table (`CREDIT_COSTS`, shared/API.md "Budgets") and what one page of a route on an
 * engine costs (pure). Defaults: fetch page 1, browser page 5, screenshot 5, pdf 5, origin page 1.
 */
import { z } from 'zod';

export const DEFAULT_CREDIT_COSTS = { fetch_page: 1, browser_page: 5, screenshot: 5, pdf: 5, origin_page: 1 } as const;

const cost = z.number().min(0).max(1_000_000);

/** `CREDIT_COSTS` JSON: any subset of the names; unknown names are refused so a typo is not silently free. */
export const CreditCostsSchema = z
  .object({ fetch_page: cost, browser_page: cost, screenshot: cost, pdf: cost, origin_page: cost })
  .partial()
  .strict();

export type CreditCosts = { [K in keyof typeof DEFAULT_CREDIT_COSTS]: number };

/** Parses `CREDIT_COSTS` (config.ts `jsonVar`): the table, or a message naming what is wrong. */
export function parseCreditCosts(json: string | undefined): CreditCosts | string {
  if (json === undefined || json.trim() === '') return { ...DEFAULT_CREDIT_COSTS };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return 'is not valid JSON';
  }
  const parsed = CreditCostsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'} (names: ${Object.keys(DEFAULT_CREDIT_COSTS).join(', ')}; numbers ≥ 0)`;
  }
  return { ...DEFAULT_CREDIT_COSTS, ...parsed.data };
}

/** Engines a usage row names. `origin` is the Crawl4AI origin; `fetch`/`browser` the edge engines. */
export type MeteredEngine = 'origin' | 'fetch' | 'browser';

/** Routes a usage row names (the crawl routes, MCP tool calls and job pages). */
export type MeteredRoute = 'crawl' | 'crawl_stream' | 'md' | 'html' | 'screenshot' | 'pdf' | 'execute_js' | 'job' | 'mcp';

/**
 * Credits for one page of `route` on `engine`: screenshots and PDFs cost their own price on any
 * engine; every other page costs its engine's page price.
 */
export function pageCost(costs: CreditCosts, route: MeteredRoute | string, engine: MeteredEngine): number {
  if (route === 'screenshot') return costs.screenshot;
  if (route === 'pdf') return costs.pdf;
  return engine === 'origin' ? costs.origin_page : engine === 'browser' ? costs.browser_page : costs.fetch_page;
}
