/**
 * MCP tool calls under the HTTP rate limits (issue #18). Each `tools/call` — over SSE
 * (`POST /mcp/messages`) or the WebSocket relay (`/mcp/ws`) — is admitted against the principal's
 * rate bucket with weight = its URLs (at least 1) and takes a concurrency lease from the same cap
 * as the HTTP crawl routes (`admitPrincipal`, src/ratelimit/principal-limits.ts). A refusal is
 * the HTTP 429 `rate_limited` / `concurrency_limited` error, audited and counted like one
 * (src/ratelimit/enforce.ts). A lease is released when the origin answers the call's JSON-RPC id,
 * when the socket closes, or on its own after the lease TTL.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { principalOf } from '../auth/principal';
import { defaultLimiterSource, releaseLease, type LimiterNamespace, type LimiterSource } from '../ratelimit/limiter-client';
import { admitPrincipal, LEASE_MARGIN_MS } from '../ratelimit/principal-limits';
import { objectName, principalLimits, type PrincipalLimits } from '../ratelimit/policy';
import { appliedLimits, enforce, onLimiterFailure, refuseConcurrency } from '../ratelimit/enforce';
import { once } from '../ratelimit/lease-body';
import type { ToolCallInfo } from './mcp-policy';
import { responseIds } from './jsonrpc-ids';
import { pageCost } from '../metering/costs';
import { enforceBudget } from '../metering/budget-http';
import { budgetNow } from '../metering/clock';
import { recordMcpCall } from '../metering/mcp-usage';

/** Rate-limit weight of one tool call: its target URLs, at least 1 (`ask` has none). */
export const callWeight = (call: ToolCallInfo): number => Math.max(1, call.urls);

/** A lease held for one admitted tool call, released by its answer. */
export interface HeldLease {
  id: unknown;
  release: () => Promise<void>;
}

export type McpAdmission = { ok: true; leases: HeldLease[] } | { ok: false; error: GatewayError };

export class McpLimiter {
  readonly #c: Context<AppEnv>;
  readonly #limits: PrincipalLimits;
  readonly #ttlMs: number;
  readonly #source: LimiterSource;

  constructor(c: Context<AppEnv>, source: LimiterSource = defaultLimiterSource) {
    const config = c.get('config');
    this.#c = c;
    this.#source = source;
    this.#limits = principalLimits(principalOf(c), config.DEFAULT_RATE_LIMIT, config.ROLE_RATE_LIMITS);
    this.#ttlMs = config.ORIGIN_TIMEOUT_MS + LEASE_MARGIN_MS;
  }

  #background = (p: Promise<unknown>) => {
    try {
      this.#c.executionCtx.waitUntil(p);
    } catch {
      // no execution context: the promise still runs
    }
  };

  /**
   * Admits one client message: a message without tool calls costs 1 (like any HTTP request); each
   * tool call costs its weight and takes a lease, in order. When one is refused, the leases taken
   * for earlier calls of the same batch are released (their tokens stay spent) and the whole
   * message is refused. `leaseId` names a call's lease (default: random).
   */
  async admitMessage(calls: readonly ToolCallInfo[], leaseId?: (call: ToolCallInfo) => string): Promise<McpAdmission> {
    const c = this.#c;
    const held: HeldLease[] = [];
    const refuse = async (error: GatewayError): Promise<McpAdmission> => {
      await Promise.all(held.map((h) => h.release()));
      return { ok: false, error };
    };
    let ns: LimiterNamespace;
    try {
      ns = this.#source(c);
    } catch (err) {
      return refuse(limiterFailure(c, this.#limits, err));
    }
    const steps: Array<ToolCallInfo | null> = calls.length === 0 ? [null] : [...calls];
    for (const call of steps) {
      // Named leases (SSE: session + call id) must be new: a reused id would otherwise renew one lease for two calls.
      const lease = call
        ? {
            id: leaseId ? leaseId(call) : crypto.randomUUID(),
            max: this.#limits.concurrency,
            ttlMs: this.#ttlMs,
            fresh: leaseId !== undefined,
          }
        : undefined;
      let admitted;
      // Metering (docs/metering.md): a relayed tool call is charged its URLs × the origin page price
      // (screenshot / pdf: their price) in the same admission; the relay cannot see pages, so no refund.
      const charge = call ? callWeight(call) * pageCost(c.get('config').CREDIT_COSTS, call.route, 'origin') : undefined;
      try {
        admitted = await admitPrincipal(ns, this.#limits, {
          cost: call ? callWeight(call) : 1,
          lease,
          ...(charge !== undefined ? { charge } : {}),
        });
      } catch (err) {
        return refuse(limiterFailure(c, this.#limits, err));
      }
      try {
        c.set(
          'rateLimits',
          appliedLimits(c).filter((a) => a.policy !== this.#limits.dimension),
        );
        if (admitted.applied) enforce(c, [admitted.applied]);
        if (admitted.lease?.lease?.duplicate) {
          const message = 'A tool call with this JSON-RPC id is still running in this session; use a new id';
          return refuse(new GatewayError('validation_failed', message, { extras: { errors: [{ path: '$.id', message }] } }));
        }
        if (admitted.budget && charge !== undefined) {
          c.set(
            'rateLimits',
            appliedLimits(c).filter((a) => a.policy !== 'budget'),
          );
          enforceBudget(c, admitted.name, admitted.budget, charge, budgetNow() ?? Date.now());
        }
        if (admitted.lease?.lease && !admitted.lease.lease.acquired)
          refuseConcurrency(c, admitted.lease.lease.max, admitted.lease.lease.active);
      } catch (err) {
        if (err instanceof GatewayError) return refuse(err);
        throw err;
      }
      if (call && charge !== undefined) recordMcpCall(c, call, charge, this.#background);
      if (call && lease && admitted.lease?.lease?.acquired) {
        const name = admitted.name;
        const id = lease.id;
        held.push({ id: call.id, release: once(() => releaseLease(ns, name, id, this.#background)) });
      }
    }
    return { ok: true, leases: held };
  }

  /** Releases a lease by name on the principal's object (an SSE answer releasing its call's lease). */
  releaseById(leaseId: string): void {
    try {
      void releaseLease(this.#source(this.#c), objectName(this.#limits.dimension, this.#limits.subject), leaseId, this.#background);
    } catch (err) {
      console.error('mcp: releasing a lease failed', { error: String(err) });
    }
  }
}

/** The longest SSE line read for an answer id; a longer answer's lease ends with its TTL. */
const MAX_SSE_LINE = 4 * 1_048_576;

/**
 * Reads an SSE stream's `data:` lines (incrementally, in bounded memory) and reports the id of
 * each JSON-RPC response it carries (`{"id": …}` without `method`), as its JSON text.
 */
export function sseAnswerReader(onAnswer: (idJson: string) => void): (chunk: string) => void {
  let line = '';
  let skipping = false;
  const readLine = (l: string) => {
    if (!l.startsWith('data:')) return;
    for (const id of responseIds(l.slice(5)) ?? []) onAnswer(id);
  };
  return (chunk) => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      const piece = chunk.slice(start, nl === -1 ? undefined : nl);
      if (!skipping) {
        line += piece;
        if (line.length > MAX_SSE_LINE) {
          line = '';
          skipping = true;
        }
      }
      if (nl === -1) return;
      if (!skipping) readLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      line = '';
      skipping = false;
      start = nl + 1;
    }
  };
}

/** The limiter failed: MCP fails closed like the crawl routes (503 `limiter_unavailable`, audited). */
function limiterFailure(c: Context<AppEnv>, limits: PrincipalLimits, err: unknown): GatewayError {
  try {
    onLimiterFailure(c, limits.dimension, err);
  } catch (refusal) {
    if (refusal instanceof GatewayError) return refusal;
    throw refusal;
  }
  return new GatewayError('limiter_unavailable', 'The rate limiter is unavailable; retry shortly', {
    headers: { 'Retry-After': '5' },
    extras: { retry_after: 5 },
  });
}

/**
 * The leases of a socket's tool calls waiting for their answers. An origin message with an `id`
 * and no `method` (a JSON-RPC response, alone or in a batch) releases the oldest lease held for
 * that id; closing the socket releases the rest.
 */
export class PendingToolCalls {
  readonly #held = new Map<string, Array<() => Promise<void>>>();
  readonly #unanswerable: Array<() => Promise<void>> = [];
  #ended = false;

  add(leases: readonly HeldLease[]): void {
    for (const l of leases) {
      // Admitted after the socket ended: the message is never sent, so nothing holds its lease.
      if (this.#ended) {
        void l.release();
        continue;
      }
      // A tool call sent as a notification gets no answer: its lease lasts until the socket closes (or its TTL).
      if (l.id === undefined) {
        this.#unanswerable.push(l.release);
        continue;
      }
      const key = JSON.stringify(l.id);
      const list = this.#held.get(key) ?? [];
      list.push(l.release);
      this.#held.set(key, list);
    }
  }

  get size(): number {
    let n = this.#unanswerable.length;
    for (const list of this.#held.values()) n += list.length;
    return n;
  }

  /**
   * Reads one origin → client message and releases the leases of the calls it answers. The
   * message is scanned, not parsed (jsonrpc-ids.ts): an answer may carry a whole crawled page.
   */
  answered(data: string | ArrayBuffer): void {
    if (this.#held.size === 0 || typeof data !== 'string') return;
    for (const key of responseIds(data) ?? []) {
      const list = this.#held.get(key);
      const release = list?.shift();
      if (list && list.length === 0) this.#held.delete(key);
      void release?.();
    }
  }

  releaseAll(): void {
    this.#ended = true;
    const all = [...this.#unanswerable.splice(0), ...[...this.#held.values()].flat()];
    this.#held.clear();
    for (const release of all) void release();
  }
}
