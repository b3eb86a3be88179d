/** Helpers for the rate-limit tests: unique subjects, a failing limiter, and an audit capture. */
import { vi } from 'vitest';
import { env } from 'cloudflare:workers';
import type { Env } from '../../src/env';
import type { AuditEvent } from '../../src/audit/types';

let counter = 0;
/** A client address no other test uses (TEST-NET-2/3 and the documentation IPv6 prefix). */
export function uniqueIp(): string {
  counter++;
  return counter % 2
    ? `198.51.${(counter >> 8) & 255}.${counter & 255}`
    : `2001:db8:${(Date.now() % 65536).toString(16)}:${counter.toString(16)}::1`;
}
export function uniqueId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${(counter++).toString(36)}`;
}

export const realLimiter = (env as unknown as Env).RATE_LIMITER;

/**
 * Wraps the real RATE_LIMITER so every stub call fails the way an overloaded or unreachable object
 * does; counts the attempts, to prove there is one per object per request and no retry loop.
 */
export function failingLimiter(): { ns: Env['RATE_LIMITER']; attempts: () => number } {
  let attempts = 0;
  const ns = {
    idFromName: (name: string) => realLimiter.idFromName(name),
    get: () =>
      new Proxy(
        {},
        {
          get: () => async () => {
            attempts++;
            throw new Error('Durable Object is overloaded. Too many requests queued.');
          },
        },
      ),
  } as unknown as Env['RATE_LIMITER'];
  return { ns, attempts: () => attempts };
}

/**
 * Collects the audit events the app writes, whichever writer is in place: the AuditLog binding
 * (wrapped here) or the foundation writer's log line.
 */
export function captureAudit(): { binding: Env['AUDIT_LOG']; events: () => AuditEvent[]; restore: () => void } {
  const events: AuditEvent[] = [];
  const binding = {
    idFromName: (name: string) => (env as unknown as Env).AUDIT_LOG.idFromName(name),
    get: () => ({
      append: async (batch: AuditEvent[]) => {
        events.push(...batch);
        return { first: 0, last: 0, stored: true };
      },
    }),
  } as unknown as Env['AUDIT_LOG'];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    if (typeof args[0] !== 'string') return;
    try {
      const parsed = JSON.parse(args[0]) as { audit?: AuditEvent };
      if (parsed.audit) events.push(parsed.audit);
    } catch {
      // not an audit line
    }
  });
  return { binding, events: () => events, restore: () => spy.mockRestore() };
}

/** The real RATE_LIMITER behind a wrapper that counts `admit` calls reaching the objects. */
export function countingLimiter(): { ns: Env['RATE_LIMITER']; calls: () => number } {
  let calls = 0;
  const ns = {
    idFromName: (name: string) => realLimiter.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = realLimiter.get(id);
      return {
        admit: (...args: Parameters<typeof stub.admit>) => {
          calls++;
          return stub.admit(...args);
        },
        releaseLease: (leaseId: string) => stub.releaseLease(leaseId),
        releaseLeases: (ids: string[]) => stub.releaseLeases(ids),
        renewLease: (leaseId: string, ttl: number) => stub.renewLease(leaseId, ttl),
      };
    },
  } as unknown as Env['RATE_LIMITER'];
  return { ns, calls: () => calls };
}
