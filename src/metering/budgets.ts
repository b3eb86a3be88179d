/**
 * Budgets as set on keys and users (shared/API.md "Budgets"). The config is kept in two places: D1
 * (`api_keys.budget`, `users.budget`, migration 0013: which principals have one, for listings) and
 * the principal's `RateLimiter` object, which enforces it with the live counters (the hot path
 * reads nothing else). Reads ask the object, so `used`/`remaining` are exact.
 */
import { z } from '@hono/zod-openapi';
import type { Env } from '../env';
import { GatewayError } from '../http/errors';
import { objectName } from '../ratelimit/policy';
import type { BudgetConfig, BudgetView } from './budget-ledger';
import { budgetNow } from './clock';

/** `budget` in create and PATCH bodies. */
export const BudgetBody = z
  .object({
    credits: z.number().min(0).max(1e12).openapi({ example: 1000, description: 'credits per period (CREDIT_COSTS prices a page)' }),
    period: z.enum(['day', 'month']).openapi({ description: 'refills at each UTC day / month start' }),
    total: z.number().min(0).max(1e15).optional().openapi({ description: 'optional hard total over all periods (never refills)' }),
  })
  .strict()
  .openapi('BudgetSetting');

/** `budget` in reads. */
export const BudgetViewSchema = z
  .object({
    credits: z.number(),
    period: z.enum(['day', 'month']),
    total: z.number().optional(),
    total_used: z.number().optional(),
    used: z.number(),
    remaining: z.number(),
    resets_at: z.string().openapi({ description: 'when the period ends and the budget refills (UTC)' }),
  })
  .openapi('Budget');

export type PrincipalDimension = 'key' | 'user';

function stub(env: Env, dimension: PrincipalDimension, id: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(objectName(dimension, id)));
}

const TABLE: Record<PrincipalDimension, string> = { key: 'api_keys', user: 'users' };

/** Sets (or with null removes) a principal's budget: D1 first, then the object that enforces it. */
export async function setBudget(
  env: Env,
  dimension: PrincipalDimension,
  id: string,
  config: BudgetConfig | null,
): Promise<BudgetView | null> {
  await env.DB.prepare(`UPDATE ${TABLE[dimension]} SET budget = ? WHERE id = ?`)
    .bind(config ? JSON.stringify(config) : null, id)
    .run();
  try {
    return await stub(env, dimension, id).setBudget(config, budgetNow());
  } catch (err) {
    console.error('budget: the limiter object could not be updated', { dimension, error: String(err) });
    throw new GatewayError('limiter_unavailable', 'The budget was saved but could not reach the rate limiter; repeat the request', {
      headers: { 'Retry-After': '5' },
    });
  }
}

/** One principal's budget (null: none), read from its object. */
export async function readBudget(env: Env, dimension: PrincipalDimension, id: string): Promise<BudgetView | null> {
  try {
    return await stub(env, dimension, id).budget(budgetNow());
  } catch (err) {
    console.error('budget: read failed', { dimension, error: String(err) });
    return null;
  }
}

/** Budgets of several principals: only those D1 marks as having one cost an object call. */
export async function readBudgets(env: Env, dimension: PrincipalDimension, ids: string[]): Promise<Map<string, BudgetView>> {
  const out = new Map<string, BudgetView>();
  if (ids.length === 0) return out;
  const marks = ids
    .slice(0, 200)
    .map(() => '?')
    .join(',');
  const rows = await env.DB.prepare(`SELECT id FROM ${TABLE[dimension]} WHERE budget IS NOT NULL AND id IN (${marks})`)
    .bind(...ids.slice(0, 200))
    .all<{ id: string }>();
  const found = rows.results.map((r) => r.id);
  // Seed keys live in config, not D1: their budgets are only in their objects.
  const seeds = dimension === 'key' ? ids.filter((i) => i.startsWith('seed_')) : [];
  const views = await Promise.all([...found, ...seeds].map(async (id) => [id, await readBudget(env, dimension, id)] as const));
  for (const [id, v] of views) if (v) out.set(id, v);
  return out;
}

/**
 * The subset rule for budgets (API.md "Self-service keys": limits no looser than the caller's own):
 * a caller whose own credential has a budget may only give a key a budget of the same period and
 * at most its credits — never none.
 */
export function budgetProblem(own: BudgetView | null, requested: BudgetConfig | null | undefined): string | null {
  if (!own) return null;
  if (!requested) return `must be set: your own credential has a budget of ${own.credits} credits per ${own.period}`;
  if (requested.period !== own.period || requested.credits > own.credits)
    return `may not exceed your own (${own.credits} credits per ${own.period})`;
  return null;
}
