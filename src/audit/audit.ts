/**
 * `audit(c, input)`: the one call every module uses to record a security decision.
 * It fills in time, request id, actor, IP, method and route, and adds the event to this isolate's
 * batch (src/audit/batcher.ts); the request that opened the batch holds its write in `waitUntil`,
 * so a slow store never slows the request and a busy isolate makes one AuditLog call per batch.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { AuditEvent, AuditInput } from './types';
import { enqueueAuditEvent } from './batcher';

/** Builds the stored event from the request context (pure apart from the clock). */
export function buildAuditEvent(c: Context<AppEnv>, input: AuditInput, now = Date.now()): AuditEvent {
  const p = c.get('principal');
  const actor = input.actor ?? (p ? { id: p.id, kind: p.kind, name: p.name } : { id: 'anonymous', kind: 'anonymous' as const });
  return {
    ts: now,
    request_id: c.get('requestId') ?? 'unknown',
    actor_id: actor.id,
    actor_kind: actor.kind,
    actor_name: actor.name ?? null,
    ip: c.get('clientIp') ?? null,
    method: c.req.method,
    route: c.get('routeTemplate') ?? c.get('path') ?? c.req.path,
    action: input.action,
    outcome: input.outcome,
    reason: input.reason ?? null,
    status: input.status ?? null,
    details: input.details ? JSON.stringify(input.details) : null,
  };
}

/** Records one event in the background. Never throws into the request. */
export function audit(c: Context<AppEnv>, input: AuditInput): void {
  const event = buildAuditEvent(c, input);
  const task = enqueueAuditEvent(c.env, event);
  if (!task) return; // another request of this isolate owns the batch's write
  try {
    c.executionCtx.waitUntil(task);
  } catch {
    // No execution context (e.g. a unit test calling the app directly): the promise still runs.
  }
}
