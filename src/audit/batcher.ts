/**
 * Per-isolate audit batching. `audit()` used to call the AuditLog object once per event; under load
 * that is one extra Durable Object round trip per request. Now an event joins this isolate's open
 * batch, and the batch goes to the object in one `append` AUDIT_BATCH_MS after its first event
 * (a batch that reaches AUDIT_BATCH_MAX events is closed early: the next event opens a new one).
 *
 * The request that opens a batch owns its write: its timer fires in its own context and its
 * `waitUntil` holds the write until it is done, so the isolate stays alive and nothing is lost.
 * Requests that only add an event hold nothing: a request never waits on a promise another
 * request's context resolves (workerd would report such a request as hung). Events reach D1 at
 * most AUDIT_BATCH_MS later than before; order within the chain is the AuditLog object's.
 */
import type { Env } from '../env';
import type { AuditEvent } from './types';
import { writeAuditEvents } from './writer';

export const AUDIT_BATCH_MS = 50;
export const AUDIT_BATCH_MAX = 50;

interface Batch {
  events: AuditEvent[];
}

/** One open batch per AuditLog namespace (tests run several env objects over the same binding). */
const open = new WeakMap<object, Batch>();

/**
 * Adds an event to this isolate's open batch. Returns the batch's write when this call opened the
 * batch (the caller must hand it to its own `waitUntil`), else null.
 */
export function enqueueAuditEvent(env: Env, event: AuditEvent): Promise<void> | null {
  const current = open.get(env.AUDIT_LOG);
  if (current && current.events.length < AUDIT_BATCH_MAX) {
    current.events.push(event);
    return null;
  }
  const batch: Batch = { events: [event] };
  open.set(env.AUDIT_LOG, batch);
  return new Promise<void>((resolve) => setTimeout(resolve, AUDIT_BATCH_MS)).then(async () => {
    if (open.get(env.AUDIT_LOG) === batch) open.delete(env.AUDIT_LOG);
    await writeAuditEvents(env, batch.events).catch((err: unknown) => {
      console.error('audit write failed', { events: batch.events.length, error: String(err) });
    });
  });
}
