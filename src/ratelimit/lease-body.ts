/**
 * Holds a concurrency lease for as long as a response body is being sent. The body is re-wrapped in
 * a pull-based ReadableStream so that all three endings are seen: the source finishing, the source
 * erroring, and the client going away (`cancel`). Each ending releases exactly once. A stream
 * that outlives half the lease TTL renews the lease, so long crawls keep their slot.
 */

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

/** Wraps `body` so the lease is released when it ends, errors, or is cancelled. */
export function holdLeaseWhileStreaming(body: ReadableStream<Uint8Array>, hooks: LeaseHooks): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const release = once(hooks.release);
  const now = hooks.now ?? Date.now;
  let renewedAt = now();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (err) {
        await release();
        controller.error(err);
        return;
      }
      if (step.done) {
        await release();
        controller.close();
        return;
      }
      controller.enqueue(step.value);
      if (now() - renewedAt >= hooks.renewEveryMs) {
        renewedAt = now();
        hooks.background(hooks.renew());
      }
    },
    async cancel(reason) {
      await release();
      await reader.cancel(reason).catch(() => {});
    },
  });
}
