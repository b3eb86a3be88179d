/**
 * Builds the polite gate for one HTTP request (edge engines) or one job page, from the config and
 * the request body's top-level `ignore_robots` (allowed only with `crawl:ignore-robots`; the crawl
 * policy refuses it otherwise with 403 before any engine runs).
 */
import type { Context } from 'hono';
import type { AppEnv, Env } from '../env';
import type { Config } from '../config';
import { EDGE_LIMITS } from '../engines/crawl-options';
import { createPoliteGate, type PoliteGate } from './gate';
import { requestUrl } from '../http/request-target';

/** The request option that turns robots.txt off (needs `crawl:ignore-robots`). */
export const IGNORE_ROBOTS_OPTION = 'ignore_robots';

/** Whether robots.txt applies to a request with this body. */
export function respectsRobots(config: Config, body: Record<string, unknown>): boolean {
  return config.RESPECT_ROBOTS && body[IGNORE_ROBOTS_OPTION] !== true;
}

/** Edge requests wait for a host slot up to half the longest page timeout, then answer `host_busy`. */
export const EDGE_MAX_WAIT_MS = EDGE_LIMITS.maxTimeoutMs / 2;
/** A lease outlives any edge page (wait + the page timeout + margin) if its release is lost. */
export const LEASE_MS = EDGE_LIMITS.maxTimeoutMs + 10_000;
/** Job pages do not hold a consumer for long: past this wait they are re-queued (`host_busy`). */
export const JOB_MAX_WAIT_MS = 5_000;

/** The gate for an edge request: the request's origin is the Signature-Agent unless SIGNATURE_AGENT_URL says otherwise. */
export function edgeGate(c: Context<AppEnv>, body: Record<string, unknown>): PoliteGate {
  const config = c.get('config');
  let waitUntil: ((p: Promise<unknown>) => void) | undefined;
  try {
    const ctx = c.executionCtx;
    waitUntil = (p) => ctx.waitUntil(p);
  } catch {
    waitUntil = undefined; // no ExecutionContext (a direct app.request in tests)
  }
  return createPoliteGate(c.env, config, {
    respectRobots: respectsRobots(config, body),
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
    agentUrl: config.SIGNATURE_AGENT_URL ?? requestUrl(c).origin,
    maxWaitMs: EDGE_MAX_WAIT_MS,
    leaseMs: LEASE_MS,
    ...(waitUntil ? { waitUntil } : {}),
  });
}

/** The gate for one job page (the consumer awaits `settle()`). */
export function jobGate(
  env: Env,
  config: Config,
  body: Record<string, unknown>,
  allowPrivateTargets: boolean,
  onOrigin = false,
): PoliteGate {
  return createPoliteGate(env, config, {
    respectRobots: respectsRobots(config, body),
    deferUnreachableRobots: onOrigin,
    allowPrivateTargets,
    ...(config.SIGNATURE_AGENT_URL ? { agentUrl: config.SIGNATURE_AGENT_URL } : {}),
    // Never so long that the job's own work-item lease (JOB_LEASE_MS) runs out while a page waits.
    maxWaitMs: Math.min(JOB_MAX_WAIT_MS, Math.floor(config.JOB_LEASE_MS / 4)),
    leaseMs: LEASE_MS,
  });
}
