/**
 * Holds a concurrency lease for as long as a response body is being sent: a tap on the body
 * (src/http/body-taps.ts) that releases when the body ends, errors or is cancelled — exactly once —
 * and renews the lease when a stream outlives half its TTL, so long crawls keep their slot.
 */
import { TappedBody, type BodyTap } from '../http/body-taps';

export interface LeaseHooks {
  release(): Promise<void>;
  renew(): Promise<void>;
  /** Renew after this many ms without a renewal (half the TTL). */
  renewEveryMs: number;
  /** Background work (ctx.waitUntil) for renewals. */
  background(p: Promise<unknown>): void;
  now?: () => number;
}

/** Returns a once-only wrapper around `release`. */
export function once(release: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= release());
}

/** The lease as a body tap: renewed while chunks flow, released once at the end. */
export function leaseTap(hooks: LeaseHooks): BodyTap {
  const release = once(hooks.release);
  const now = hooks.now ?? Date.now;
  let renewedAt = now();
  return {
    chunk() {
      if (now() - renewedAt >= hooks.renewEveryMs) {
        renewedAt = now();
        hooks.background(hooks.renew());
      }
    },
    end: () => release(),
  };
}

/** Wraps `body` so the lease is released when it ends, errors, or is cancelled. */
export function holdLeaseWhileStreaming(body: ReadableStream<Uint8Array>, hooks: LeaseHooks): ReadableStream<Uint8Array> {
  return new TappedBody(body, leaseTap(hooks)).stream;
}
