/**
 * `AuditLog`: the single writer of the audit hash chain. One instance, named `chain:global`
 * (AUDIT_CHAIN_NAME), assigns every sequence number, so the chain is well-defined. Rows are
 * buffered in this object's SQLite and copied to D1; when D1 fails they wait here and `alarm()`
 * retries with exponential backoff (docs/audit.md "Delivery").
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { AuditEvent } from './types';
import { AuditChain, type ChainHead, type FlushResult } from './audit-chain';
import { countAuditWriteFailure, flushMetrics } from '../metrics/recorder';

/** Metric + log line for a failed D1 batch. The line names counts and the error, never row content. */
export function reportAuditWriteFailure(env: Env, ctx?: DurableObjectState) {
  return (error: unknown, pending: number, retryInMs: number): void => {
    countAuditWriteFailure();
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(JSON.stringify({ msg: 'audit: D1 write failed; rows kept in the AuditLog buffer', pending, retry_in_ms: retryInMs, error: message.slice(0, 200) }));
    const sent = flushMetrics(env, true).catch(() => undefined);
    ctx?.waitUntil(sent);
  };
}

export class AuditLog extends DurableObject<Env> {
  readonly #chain: AuditChain;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#chain = new AuditChain(ctx.storage, env.DB, { onWriteFailure: reportAuditWriteFailure(env, ctx) });
  }

  /**
   * Appends events to the chain and writes them (with anything still buffered) to D1.
   * Resolves once they are in D1, or safely buffered when D1 fails (then the alarm retries).
   */
  async append(events: AuditEvent[]): Promise<{ first: number; last: number; stored: boolean }> {
    const rows = this.#chain.append(events);
    const first = rows[0]?.id ?? 0;
    const last = rows.at(-1)?.id ?? 0;
    if (this.#chain.backingOff()) return { first, last, stored: false };
    const result = await this.#chain.flush();
    return { first, last, stored: result.ok };
  }

  /** Writes buffered rows now (tests, operators). */
  async flush(): Promise<FlushResult> {
    return this.#chain.flush();
  }

  /** The chain head, the last row committed to D1, and the buffer size. */
  head(): ChainHead {
    return this.#chain.head();
  }

  /** Retry after a D1 failure; a new failure schedules the next alarm with a longer delay. */
  override async alarm(): Promise<void> {
    await this.#chain.flush();
  }
}
