/**
 * Per-isolate audit batching. `audit()` used to call the AuditLog object once per event; under load
 * that is one extra Durable Object round trip per request. Now an event joins this isolate's open
 * batch, and the batch goes to the object in one `append` when it holds AUDIT_BATCH_MAX events or
 * AUDIT_BATCH_MS after its first event, whichever comes first.
 *
 * Nothing is lost to batching: every request that adds an event hands the batch's flush promise to
 * its own `waitUntil`, so the isolate stays alive until the batch is written (or logged, see
 * writer.ts). Events reach D1 at most AUDIT_BATCH_MS later than before; order within the chain is
 * still the AuditLog object's (it numbers and hashes on arrival).
 */
import type { Env } from '../env';
import type { AuditEvent } from './types';
import { writeAuditEvents } from './writer';

export const AUDIT_BATCH_MS = 50;
export const AUDIT_BATCH_MAX = 50;

interface Batch {
  events: AuditEvent[];
  env: Env;
  flushed: Promise<void>;
  flushNow: () => void;
}

/** One open batch per AuditLog namespace (tests run several env objects over the same binding). */
const open = new WeakMap<object, Batch>();

function startBatch(env: Env): Batch {
  let flushNow!: () => void;
  const trigger = new Promise<void>((resolve) => {
    flushNow = resolve;
    setTimeout(resolve, AUDIT_BATCH_MS);
  });
  const batch: Batch = { events: [], env, flushNow, flushed: Promise.resolve() };
  batch.flushed = trigger.then(async () => {
    if (open.get(env.AUDIT_LOG) === batch) open.delete(env.AUDIT_LOG);
    await writeAuditEvents(batch.env, batch.events).catch((err: unknown) => {
      console.error('audit write failed', { events: batch.events.length, error: String(err) });
    });
  });
  open.set(env.AUDIT_LOG, batch);
  return batch;
}

/** Adds an event to this isolate's batch; returns the promise of that batch's write (for waitUntil). */
export function enqueueAuditEvent(env: Env, event: AuditEvent): Promise<void> {
  const batch = open.get(env.AUDIT_LOG) ?? startBatch(env);
  batch.events.push(event);
  if (batch.events.length >= AUDIT_BATCH_MAX) {
    open.delete(env.AUDIT_LOG); // the next event starts a new batch
    batch.flushNow();
  }
  return batch.flushed;
}
