/**
 * Deferred budget refunds, like the deferred lease releases of src/ratelimit/limiter-client.ts: the
 * unused part of a reservation waits in this isolate and rides along with the next admission to the
 * same object (`takeRefunds`), or is sent in one batch after REFUND_FLUSH_MS. So reconciling a request
 * costs no call of its own under load, and at most one call per object per REFUND_FLUSH_MS otherwise.
 */
import type { LimiterNamespace } from '../ratelimit/limiter-client';
import type { BudgetRefund } from '../ratelimit/rate-limiter-do';
import { budgetNow } from './clock';

export const REFUND_FLUSH_MS = 100;

const pending = new WeakMap<LimiterNamespace, Map<string, BudgetRefund[]>>();

function pendingFor(ns: LimiterNamespace): Map<string, BudgetRefund[]> {
  let map = pending.get(ns);
  if (!map) pending.set(ns, (map = new Map()));
  return map;
}

/** Takes (and forgets) the refunds waiting for object `name` (the caller sends them with its admit). */
export function takeRefunds(ns: LimiterNamespace, name: string): BudgetRefund[] {
  const map = pendingFor(ns);
  const list = map.get(name);
  if (!list) return [];
  map.delete(name);
  return list;
}

/** Puts refunds back (an admit that could not be sent). */
export function requeueRefunds(
  ns: LimiterNamespace,
  name: string,
  refunds: BudgetRefund[],
  background?: (p: Promise<unknown>) => void,
): void {
  for (const r of refunds) queueRefund(ns, name, r, background);
}

async function flush(ns: LimiterNamespace, name: string): Promise<void> {
  await new Promise((r) => setTimeout(r, REFUND_FLUSH_MS));
  const list = takeRefunds(ns, name);
  if (list.length === 0) return; // an admit took them along
  try {
    await ns.get(ns.idFromName(name)).refundBudget(list, budgetNow());
  } catch (err) {
    const credits = list.reduce((a, r) => a + r.credits, 0);
    console.error('budget refund failed; the principal keeps the reservation until the period ends', {
      object: name,
      credits,
      error: String(err),
    });
  }
}

/** Queues a refund for object `name`; the first queued refund owns the flush (held by `background`). */
export function queueRefund(ns: LimiterNamespace, name: string, refund: BudgetRefund, background?: (p: Promise<unknown>) => void): void {
  if (refund.credits <= 0) return;
  const map = pendingFor(ns);
  const list = map.get(name);
  if (list) {
    list.push(refund);
    return;
  }
  map.set(name, [refund]);
  const p = flush(ns, name);
  if (background) background(p);
}
