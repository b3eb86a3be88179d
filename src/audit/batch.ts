/**
 * Per-isolate audit batching: `audit()` queues the event here instead of calling the `AuditLog`
 * Durable Object once per event. Each request that queues an event also hands this isolate a timed
 * flush through its own `waitUntil` (AUDIT_BATCH_MS later it writes whatever is still queued, in
 * its own request context), so:
 *  - no event waits for another request: the request that queued it keeps the isolate alive until
 *    the batch holding it is written (or logged by the writer's fallback) — nothing is dropped;
 *  - under load, the events of every request in the same ~AUDIT_BATCH_MS window share one DO call;
 *  - a batch never exceeds AUDIT_BATCH_MAX events (a full batch is written at once).
 * Queues are kept per `AUDIT_LOG` binding, so an env with another binding (tests) never mixes in.
 * The cost: rows reach D1 up to AUDIT_BATCH_MS later, and concurrent batches from several
 * isolates may interleave (the chain is still one well-defined sequence; docs/audit.md).
 */
import type { Env } from '../env';
import type { AuditEvent } from './types';
import { writeAuditEvents } from './writer';

/** How long an event may wait for others to join its batch. */
export const AUDIT_BATCH_MS = 50;
/** Largest batch sent in one call. */
export const AUDIT_BATCH_MAX = 100;

const queues = new WeakMap<object, AuditEvent[]>();

function queueFor(env: Env): AuditEvent[] {
  let q = queues.get(env.AUDIT_LOG);
  if (!q) queues.set(env.AUDIT_LOG, (q = []));
  return q;
}

/** Writes everything queued for this binding now (in the caller's context), in batches of AUDIT_BATCH_MAX. */
export async function flushAuditQueue(env: Env): Promise<void> {
  const q = queueFor(env);
  while (q.length > 0) await writeAuditEvents(env, q.splice(0, AUDIT_BATCH_MAX));
}

/**
 * Queues one event; returns the task the caller must hand to `waitUntil`. The task resolves once
 * the event has been written by this flush or an earlier one (writer failures are logged there).
 */
export function queueAuditEvent(env: Env, event: AuditEvent, delayMs = AUDIT_BATCH_MS): Promise<void> {
  const q = queueFor(env);
  q.push(event);
  if (q.length >= AUDIT_BATCH_MAX) return flushAuditQueue(env);
  return new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => flushAuditQueue(env));
}
