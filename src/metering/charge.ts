/**
 * What a request may cost at most, known before any work starts (pure): its URLs × the page price
 * of the route on the engine it will run on (docs/metering.md "Reservation"). Read by the principal
 * rate-limit middleware, which reserves it in the same Durable Object call as the rate limit.
 */
import { pageCost, type CreditCosts, type MeteredEngine, type MeteredRoute } from './costs';

/** A budgeted route: method + matched template → its metered name and its engine when none is named. */
interface BudgetedRoute {
  route: MeteredRoute;
  fallback: 'fetch' | 'browser';
  /** Jobs keep their reservation whole: pages run later, in the background. */
  job?: boolean;
}

const BUDGETED: Record<string, BudgetedRoute> = {
  '/crawl': { route: 'crawl', fallback: 'fetch' },
  '/crawl/stream': { route: 'crawl_stream', fallback: 'fetch' },
  '/md': { route: 'md', fallback: 'fetch' },
  '/html': { route: 'html', fallback: 'fetch' },
  '/screenshot': { route: 'screenshot', fallback: 'browser' },
  '/pdf': { route: 'pdf', fallback: 'browser' },
  '/execute_js': { route: 'execute_js', fallback: 'browser' },
  '/crawl/job': { route: 'job', fallback: 'fetch', job: true },
  '/jobs': { route: 'job', fallback: 'fetch', job: true },
};

/** The metered route of a POST to `template`, or null when the route is not metered. */
export function budgetedRoute(method: string, template: string | null): BudgetedRoute | null {
  if (method !== 'POST' || template === null) return null;
  return BUDGETED[template] ?? null;
}

/** The request as the charge needs it (the body's `urls`/`url` and `engine`). */
export interface ChargeInput {
  route: BudgetedRoute;
  body: unknown;
  originUrl: string | undefined;
  costs: CreditCosts;
  maxUrls: number;
}

export interface Charge {
  route: MeteredRoute;
  engine: MeteredEngine;
  urls: number;
  perPage: number;
  /** Credits reserved: urls × perPage. */
  credits: number;
  job: boolean;
}

/**
 * The maximum cost. A body the route will refuse anyway (not an object, no URL) reserves what one
 * URL costs; URLs past `maxUrls` are refused by the policy, so the reservation is capped there.
 */
export function chargeFor(input: ChargeInput): Charge {
  const body = input.body && typeof input.body === 'object' && !Array.isArray(input.body) ? (input.body as Record<string, unknown>) : {};
  const urls = Array.isArray(body.urls) ? Math.min(Math.max(1, body.urls.length), input.maxUrls) : 1;
  const named = body.engine === 'fetch' || body.engine === 'browser' ? body.engine : undefined;
  const engine: MeteredEngine = named ?? (input.originUrl ? 'origin' : input.route.fallback);
  const perPage = pageCost(input.costs, input.route.route, engine);
  return { route: input.route.route, engine, urls, perPage, credits: urls * perPage, job: input.route.job === true };
}
