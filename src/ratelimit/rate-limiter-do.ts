/**
 * `RateLimiter` Durable Object: one instance per `<dimension>:<subject>[:shard]` (docs/storage.md
 * "Rate limits"). It holds that subject's GCRA buckets and its concurrency leases in SQLite.
 * A DO runs one call at a time, so a check-and-update here is atomic: concurrent requests can
 * never push a bucket past its limit. `alarm()` deletes idle buckets and expired leases.
 *
 * SQLite is the record; memory is a read cache of it (docs/performance.md "Third pass"). This object
 * is the only writer of its storage and runs one call at a time, so each write goes to SQLite first
 * and then to memory, and an admit reads its bucket, budget and leases from memory: its statements
 * are the writes (the bucket, the lease, releases), not three reads and a scan of the leases. A
 * failed write throws before memory changes; a restarted object reloads memory from SQLite.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { gcra, type RateLimitDecision } from './gcra';
import type { RateLimitSpec } from './limit-spec';
import type { AdmitRequest, AdmitResult, BudgetRefund, LeaseDecision, LeaseRequest } from './admit-types';
import { decideLease } from './lease-decision';
import {
  budgetView,
  configure,
  refund,
  reserve,
  type BudgetConfig,
  type BudgetDecision,
  type BudgetState,
  type BudgetView,
} from '../metering/budget-ledger';

export type { AdmitRequest, AdmitResult, BucketCheck, BudgetRefund, LeaseDecision, LeaseRequest } from './admit-types';

/** The alarm never runs more often than this while rows remain (no alarm storms on a hot object). */
const MIN_ALARM_GAP_MS = 1_000;

export class RateLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tat REAL NOT NULL);
       CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
       CREATE TABLE IF NOT EXISTS budget (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);`,
    );
  }

  /** Buckets read so far (name → tat; 0 when the row is absent). */
  readonly #tats = new Map<string, number>();
  /** The budget row (null: none), once read. */
  #budget: BudgetState | null | undefined;
  /** Every lease row (id → expires_at), loaded on first use. */
  #leaseRows: Map<string, number> | null = null;

  #leases(): Map<string, number> {
    if (!this.#leaseRows) {
      this.#leaseRows = new Map();
      for (const r of this.ctx.storage.sql.exec<{ id: string; expires_at: number }>('SELECT id, expires_at FROM leases'))
        this.#leaseRows.set(r.id, r.expires_at);
    }
    return this.#leaseRows;
  }

  /** One bucket, one request of weight `cost`: the simple API (`admit` does several atomically). */
  async check(bucket: string, spec: RateLimitSpec, cost = 1, now?: number): Promise<RateLimitDecision> {
    const result = await this.admit({ checks: [{ bucket, spec, cost }], now });
    const { bucket: _name, ...decision } = result.decisions[0] as RateLimitDecision & { bucket: string };
    return decision;
  }

  /**
   * All-or-nothing admission: every bucket must allow and the lease (if any) must be free;
   * otherwise nothing is consumed, so a request refused by one dimension costs no other quota.
   */
  async admit(request: AdmitRequest): Promise<AdmitResult> {
    const now = request.now ?? Date.now();
    if (request.release?.length) this.releaseLeases(request.release);
    if (request.refunds?.length) this.#applyRefunds(request.refunds, now);
    const updates: Array<[string, number]> = [];
    const decisions: AdmitResult['decisions'] = [];
    for (const check of request.checks) {
      const stored = this.#tat(check.bucket);
      const { decision, tat } = gcra(stored, check.spec, check.cost ?? 1, now);
      decisions.push({ bucket: check.bucket, ...decision });
      if (decision.allowed) updates.push([check.bucket, tat]);
    }
    let allowed = decisions.every((d) => d.allowed);
    // The budget (docs/metering.md): reserved in the same decision, so a refusal anywhere charges nothing.
    let budget: BudgetDecision | undefined;
    let budgetNext: BudgetState | undefined;
    const stored = request.charge !== undefined ? this.#budgetState() : null;
    if (stored && request.charge !== undefined) {
      const r = reserve(stored, allowed ? request.charge : 0, now);
      budget = allowed ? r.decision : { ...r.decision, allowed: true };
      budgetNext = r.next;
      allowed = allowed && r.decision.allowed;
    }
    let lease: LeaseDecision | undefined;
    if (request.lease) {
      lease = this.#leaseDecision(request.lease, now);
      if (allowed && lease.acquired) {
        this.ctx.storage.sql.exec(
          'INSERT INTO leases (id, expires_at) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET expires_at = excluded.expires_at',
          request.lease.id,
          now + request.lease.ttlMs,
        );
        this.#leases().set(request.lease.id, now + request.lease.ttlMs);
      } else if (lease.acquired) {
        lease = { ...lease, acquired: false, active: lease.active - 1 };
      }
      allowed = allowed && lease.acquired;
    }
    if (allowed) {
      for (const [name, tat] of updates) {
        this.ctx.storage.sql.exec(
          'INSERT INTO buckets (name, tat) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET tat = excluded.tat',
          name,
          tat,
        );
        this.#tats.set(name, tat);
      }
      if (budgetNext) this.#putBudget(budgetNext);
      await this.#ensureAlarm();
    }
    if (budget && !allowed && budget.allowed) budget = { ...budget, reserved: 0, view: budgetView(stored as BudgetState, now) };
    return { allowed, decisions, ...(lease ? { lease } : {}), ...(budget ? { budget } : {}) };
  }

  /** Takes one of `max` concurrency slots for `ttlMs`. Re-acquiring a live id only extends it. */
  async acquireLease(id: string, max: number, ttlMs: number, now?: number): Promise<LeaseDecision> {
    const result = await this.admit({ checks: [], lease: { id, max, ttlMs }, now });
    return result.lease as LeaseDecision;
  }

  /** Extends a live lease (long streams); false when it already expired or was released. */
  renewLease(id: string, ttlMs: number, now = Date.now()): boolean {
    const cursor = this.ctx.storage.sql.exec('UPDATE leases SET expires_at = ? WHERE id = ? AND expires_at > ?', now + ttlMs, id, now);
    const renewed = cursor.rowsWritten > 0;
    if (renewed) this.#leases().set(id, now + ttlMs);
    return renewed;
  }

  /** Frees a slot; idempotent (a second release, or one after expiry, is a no-op returning false). */
  releaseLease(id: string): boolean {
    const released = this.ctx.storage.sql.exec('DELETE FROM leases WHERE id = ?', id).rowsWritten > 0;
    this.#leaseRows?.delete(id);
    return released;
  }

  /** Frees several slots at once (a batch of deferred releases); returns how many were live. */
  releaseLeases(ids: string[]): number {
    let n = 0;
    for (const id of ids.slice(0, 1000)) {
      n += this.ctx.storage.sql.exec('DELETE FROM leases WHERE id = ?', id).rowsWritten;
      this.#leaseRows?.delete(id);
    }
    return n;
  }

  /** Live leases at `now` (for tests, `/auth/me` and the dashboard). */
  activeLeases(now = Date.now()): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM leases WHERE expires_at > ?', now).one().n;
  }

  /** Stored rows (for tests and the clean-up proof): buckets and leases, expired or not. */
  storedRows(): { buckets: number; leases: number } {
    const b = this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM buckets').one().n;
    const l = this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM leases').one().n;
    return { buckets: b, leases: l };
  }

  /** Sets (or with null removes) this principal's budget; returns it as reads show it. */
  setBudget(config: BudgetConfig | null, now = Date.now()): BudgetView | null {
    if (!config) {
      this.ctx.storage.sql.exec('DELETE FROM budget');
      this.#budget = null;
      return null;
    }
    const next = configure(this.#budgetState(), config, now);
    this.#putBudget(next);
    return budgetView(next, now);
  }

  /** This principal's budget as reads show it, or null when it has none. */
  budget(now = Date.now()): BudgetView | null {
    const s = this.#budgetState();
    return s ? budgetView(s, now) : null;
  }

  /** Gives back unused reservations (a batch of deferred refunds); returns the budget after. */
  refundBudget(refunds: BudgetRefund[], now = Date.now()): BudgetView | null {
    this.#applyRefunds(refunds, now);
    return this.budget(now);
  }

  #budgetState(): BudgetState | null {
    if (this.#budget === undefined) {
      const row = this.ctx.storage.sql.exec<{ state: string }>('SELECT state FROM budget WHERE id = 1').toArray()[0];
      this.#budget = row ? (JSON.parse(row.state) as BudgetState) : null;
    }
    // A copy: callers derive the next state from it; only #putBudget changes the cached one.
    return this.#budget && structuredClone(this.#budget);
  }

  #putBudget(state: BudgetState): void {
    this.ctx.storage.sql.exec(
      'INSERT INTO budget (id, state) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state',
      JSON.stringify(state),
    );
    this.#budget = structuredClone(state);
  }

  #applyRefunds(refunds: BudgetRefund[], now: number): void {
    let state = this.#budgetState();
    if (!state) return;
    for (const r of refunds.slice(0, 1000)) state = refund(state, r.credits, r.periodStart, now);
    this.#putBudget(state);
  }

  /** Clean-up: idle buckets (full again) and expired leases (a Worker that died mid-request) go. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.sql.exec('DELETE FROM buckets WHERE tat <= ?', now);
    for (const [name, tat] of this.#tats) if (tat <= now) this.#tats.delete(name);
    this.ctx.storage.sql.exec('DELETE FROM leases WHERE expires_at <= ?', now);
    if (this.#leaseRows) for (const [id, at] of this.#leaseRows) if (at <= now) this.#leaseRows.delete(id);
    const next = this.#nextExpiry();
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, now + MIN_ALARM_GAP_MS));
    this.#alarmSet = next !== null;
  }

  #tat(name: string): number {
    let tat = this.#tats.get(name);
    if (tat === undefined) {
      const row = this.ctx.storage.sql.exec<{ tat: number }>('SELECT tat FROM buckets WHERE name = ?', name).toArray()[0];
      tat = row?.tat ?? 0;
      this.#tats.set(name, tat);
    }
    return tat;
  }

  #leaseDecision(req: LeaseRequest, now: number): LeaseDecision {
    const { decision, expired } = decideLease(this.#leases(), req, now);
    if (expired) this.ctx.storage.sql.exec('DELETE FROM leases WHERE expires_at <= ?', now);
    return decision;
  }

  #nextExpiry(): number | null {
    const row = this.ctx.storage.sql
      .exec<{ b: number | null; l: number | null }>('SELECT (SELECT MIN(tat) FROM buckets) AS b, (SELECT MIN(expires_at) FROM leases) AS l')
      .one();
    const candidates = [row.b, row.l].filter((v): v is number => v !== null);
    return candidates.length ? Math.min(...candidates) : null;
  }

  /** Alarms run on the real clock (an injected `now` only changes the arithmetic, never the schedule). */
  /** Whether an alarm is known to be set (kept in memory: saves a storage read on every admit). */
  #alarmSet: boolean | null = null;

  async #ensureAlarm(): Promise<void> {
    if (this.#alarmSet === true) return;
    if ((await this.ctx.storage.getAlarm()) === null) {
      const now = Date.now();
      const next = this.#nextExpiry() ?? now;
      await this.ctx.storage.setAlarm(Math.max(next, now + MIN_ALARM_GAP_MS));
    }
    this.#alarmSet = true;
  }
}
