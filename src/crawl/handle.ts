/**
 * The one path every crawl route takes after validation: policy → audit → engine choice →
 * origin forward or edge engine. Routers stay thin (STYLE.md habit 1).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { decideCrawlPolicy, policyContextFor, type CrawlRoute, type PolicyDecision } from './policy';
import { forwardToOrigin } from './origin/forward';
import { runOnEdge } from './edge-run';
import type { EdgeEngineKind } from './types';
import { meterEngine } from '../metering/meter';
import { toOrigin } from './origin-body';
import { bindArtifacts } from './artifacts';

export type EngineChoice = 'origin' | EdgeEngineKind;

/**
 * Pure: with `ORIGIN_URL` set and no `engine` in the body → origin; an explicit `engine`, or no
 * origin at all → that edge engine (`fallback` when none was named).
 */
export function chooseEngine(originUrl: string | undefined, requested: EdgeEngineKind | undefined, fallback: EdgeEngineKind): EngineChoice {
  if (requested) return requested;
  return originUrl ? 'origin' : fallback;
}

/** Runs the policy for the current principal, auditing a refusal with its reason. */
export function enforcePolicy(c: Context<AppEnv>, route: CrawlRoute, body: Record<string, unknown>): PolicyDecision {
  const principal = c.get('principal');
  if (!principal) throw new GatewayError('invalid_credentials', 'Authentication required');
  const config = c.get('config');
  try {
    const rawHtml = route === 'crawl' || route === 'md' || route === 'html';
    return decideCrawlPolicy(route, body, { ...policyContextFor(principal, config), allowRawHtml: rawHtml });
  } catch (err) {
    if (err instanceof GatewayError) {
      const action = err.code === 'insufficient_scope' ? 'permission_denied' : 'crawl_requested';
      audit(c, { action, outcome: 'denied', reason: err.code, status: err.status, details: { route } });
    }
    throw err;
  }
}

export interface CrawlHandleOptions {
  route: CrawlRoute;
  /** Path on the origin (Crawl4AI's own path for this route). */
  originPath: string;
  /** Edge engine when there is no origin and the body names none. */
  fallback: EdgeEngineKind;
  stream?: boolean;
}

/** Policy, audit, then forward or crawl at the edge. */
export async function handleCrawl(c: Context<AppEnv>, body: Record<string, unknown>, o: CrawlHandleOptions): Promise<Response> {
  const decision = enforcePolicy(c, o.route, body);
  const engine = chooseEngine(c.get('config').ORIGIN_URL, decision.engine, o.fallback);
  audit(c, { action: 'crawl_requested', outcome: 'success', details: { route: o.route, urls: decision.urls.length, engine } });
  meterEngine(c, engine);
  if (engine === 'origin') {
    const body = toOrigin(c, o.route, decision.body);
    const res = await forwardToOrigin(c, {
      method: 'POST',
      path: o.originPath,
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    // Crawl4AI 0.9 stores screenshots and PDFs as artifacts: they belong to this tenant (artifacts.ts).
    return o.route === 'screenshot' || o.route === 'pdf' ? bindArtifacts(c, res) : res;
  }
  return runOnEdge(c, engine, o.route, decision.body, decision.urls, o.stream);
}

/**
 * Proxied responses (origin bodies, streamed) do not go through Hono's typed-response helpers;
 * this tells the route typing so, in one place.
 */
export function passThrough(res: Response): never {
  return res as never;
}
