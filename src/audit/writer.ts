/**
 * Hands audit events to the chain's single writer, the `AuditLog` Durable Object. Called from
 * `waitUntil`, so the request never waits for it. If the object cannot be reached even after one
 * retry, the events go to the Worker's log as a last resort (they hold no secrets) and the failure
 * is counted: nothing is dropped silently.
 */
import type { Env } from '../env';
import type { AuditEvent } from './types';
import { AUDIT_CHAIN_NAME } from './audit-chain';
import { countAuditWriteFailure } from '../metrics/recorder';

/** The stub of the one chain writer. */
export function auditLogStub(env: Env) {
  return env.AUDIT_LOG.get(env.AUDIT_LOG.idFromName(AUDIT_CHAIN_NAME));
}

export async function writeAuditEvents(env: Env, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await auditLogStub(env).append(events);
    return;
  } catch {
    // A stub can break after a transient error (object reset, overloaded); try once with a new one.
  }
  try {
    await auditLogStub(env).append(events);
  } catch (err) {
    countAuditWriteFailure();
    console.error(JSON.stringify({ msg: 'audit: AuditLog unreachable; events logged here instead of stored', error: String(err).slice(0, 200), audit: events }));
  }
}
