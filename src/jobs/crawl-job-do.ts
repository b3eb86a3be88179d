/**
 * One crawl job's state: its pages (src/jobs/job-pages.ts), status, timing and webhook deliveries,
 * in the object's SQLite storage. Every claim and report is a synchronous transaction: that is the
 * checkpoint, so an evicted, crashed or redeployed object resumes from its last committed batch.
 * The JobScheduler decides *when* this job may run a batch (priority, concurrency); this object
 * decides *which* pages (due pending ones) and records what happened to them.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { loadConfig, type Config } from '../config';
import {
  PAGES_SCHEMA,
  batchPages,
  countPages,
  earliestLease,
  insertPages,
  leasePages,
  nextDue,
  reclaimExpired,
  releaseBatch,
  type PageCounts,
} from './job-pages';
import { WEBHOOK_SCHEMA, deliverDue, nextDeliveryAt, scheduleDelivery } from './job-webhooks';
import {
  META_SCHEMA,
  batchWorkOf,
  initialJobState,
  readMeta,
  writeMeta,
  type ClaimResult,
  type StoredJobSpec,
  type WakeRequest,
} from './job-meta';
import { recordOutcomes } from './job-outcomes';
import { dueProgressStep, jobEventBody, jobRowUpdate, type JobEvent } from './job-events';
import { activeMsOf, buildSnapshot, type JobSnapshot, type JobState } from './job-snapshot';
import { updateJobRow } from './job-index';
import {
  PRIORITIES,
  TERMINAL_STATUSES,
  type BatchWork,
  type JobSpec,
  type JobStatus,
  type PageOutcome,
  type PrincipalReason,
} from './types';
import { schedulerStub } from './stubs';
import { checkJobPrincipal } from './principal-check';

export type { ClaimResult, WakeRequest } from './job-meta';

export class CrawlJob extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    for (const s of [...PAGES_SCHEMA, ...WEBHOOK_SCHEMA, ...META_SCHEMA]) this.#sql.exec(s);
  }

  /** Creates the job (idempotent: a second call for the same id changes nothing) and registers it with the scheduler. */
  async create(spec: JobSpec): Promise<{ created: boolean }> {
    if (this.#spec()) return { created: false };
    const { urls, ...rest } = spec;
    this.ctx.storage.transactionSync(() => {
      this.#put('spec', rest);
      this.#put('state', initialJobState());
      insertPages(this.#sql, urls);
    });
    if (urls.length === 0) await this.#finish(Date.now());
    else await schedulerStub(this.env).enqueue(spec.id, spec.tenant, PRIORITIES.indexOf(spec.priority), 0);
    return { created: true };
  }

  /** The scheduler asks for a batch of up to `max` due pages. */
  async claim(max: number, now = Date.now()): Promise<ClaimResult> {
    const spec = this.#spec();
    const state = this.#state();
    if (!spec || !state || (state.status !== 'queued' && state.status !== 'running')) return { kind: 'none' };
    const config = this.#config();
    const batchId = `b_${crypto.randomUUID()}`;
    const leased = this.ctx.storage.transactionSync(() => {
      const rows = leasePages(this.#sql, batchId, max, now, now + config.JOB_LEASE_MS);
      if (rows.length > 0 && state.status === 'queued')
        this.#put('state', { ...state, status: 'running', startedAt: now, runningSince: now });
      return rows.length;
    });
    if (leased === 0) {
      const due = nextDue(this.#sql);
      return due === null ? { kind: 'none' } : { kind: 'wait', at: due };
    }
    await this.#ensureAlarm(now + config.JOB_LEASE_MS);
    if (state.status === 'queued') await this.#syncIndex(now);
    return { kind: 'batch', batchId, count: leased };
  }

  /** A consumer reads its batch; null when the batch is no longer leased (cancelled, reclaimed, reported). */
  async work(batchId: string): Promise<BatchWork | null> {
    const spec = this.#spec();
    if (!spec) return null;
    const items = batchPages(this.#sql, batchId);
    if (items.length === 0) return null;
    return batchWorkOf(spec, batchId, items);
  }

  /**
   * Records a batch's outcomes (idempotent: only pages still leased to this batch change). Pages of
   * the batch without an outcome go back to pending. Returns when the scheduler should run this job again.
   */
  async report(batchId: string, outcomes: PageOutcome[], now = Date.now()): Promise<WakeRequest | null> {
    const spec = this.#spec();
    if (!spec) return null;
    const config = this.#config();
    this.ctx.storage.transactionSync(() => {
      recordOutcomes(this.#sql, batchId, outcomes, now, config.JOB_RETRY_BASE_MS);
      releaseBatch(this.#sql, batchId);
    });
    return this.#afterChange(spec, now);
  }

  /** Pauses on the owner's request, or (with a reason) because its principal may no longer act. */
  async pause(now = Date.now(), reason: PrincipalReason | null = null): Promise<JobSnapshot | { error: string }> {
    const state = this.#state();
    if (!state) return { error: 'not_found' };
    if (state.status !== 'queued' && state.status !== 'running') return { error: `a ${state.status} job cannot be paused` };
    this.#put('state', { ...state, status: 'paused', statusReason: reason, activeMs: activeMsOf(state, now), runningSince: null });
    await this.#syncIndex(now);
    return this.snapshot(now) as Promise<JobSnapshot>;
  }

  /** A consumer found the job's principal revoked or disabled: its batch goes back unrun and the job pauses. */
  async suspend(batchId: string, reason: PrincipalReason, now = Date.now()): Promise<void> {
    releaseBatch(this.#sql, batchId);
    await this.pause(now, reason);
  }

  async resume(now = Date.now()): Promise<JobSnapshot | { error: string }> {
    const spec = this.#spec();
    const state = this.#state();
    if (!spec || !state) return { error: 'not_found' };
    if (state.status !== 'paused') return { error: `a ${state.status} job cannot be resumed` };
    // Nobody (not even an admin) resumes a job for a principal that may no longer act.
    const verdict = await checkJobPrincipal(this.env, this.#config(), spec.principal, now);
    if (!verdict.ok) {
      this.#put('state', { ...state, statusReason: verdict.reason });
      await this.#syncIndex(now);
      return { error: verdict.reason };
    }
    this.#put('state', {
      ...state,
      status: state.startedAt === null ? 'queued' : 'running',
      statusReason: null,
      runningSince: state.startedAt === null ? null : now,
    });
    await this.#syncIndex(now);
    await schedulerStub(this.env).enqueue(spec.id, spec.tenant, PRIORITIES.indexOf(spec.priority), 0);
    return this.snapshot(now) as Promise<JobSnapshot>;
  }

  /** Cancels: pending pages are dropped; batches in flight may still report (their results are kept). */
  async cancel(now = Date.now()): Promise<JobSnapshot | { error: string }> {
    const spec = this.#spec();
    const state = this.#state();
    if (!spec || !state) return { error: 'not_found' };
    if (TERMINAL_STATUSES.includes(state.status)) return { error: `a ${state.status} job cannot be cancelled` };
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec("UPDATE pages SET state = 'cancelled', finished_at = ? WHERE state = 'pending'", now);
      this.#put('state', { ...state, status: 'cancelled', activeMs: activeMsOf(state, now), runningSince: null, finishedAt: now });
      this.#webhookEvent(spec, 'cancelled', now);
    });
    await this.#syncIndex(now);
    await this.#ensureAlarm(now);
    return this.snapshot(now) as Promise<JobSnapshot>;
  }

  /** Status, counts, progress with ETA, per-page timing, bytes and the webhook delivery log. */
  async snapshot(now = Date.now()): Promise<JobSnapshot | null> {
    const spec = this.#spec();
    const state = this.#state();
    if (!spec || !state) return null;
    return buildSnapshot(this.#sql, spec, state, now);
  }

  /** Lease expiry (lost consumers), due webhooks, a behind D1 index row. */
  override async alarm(): Promise<void> {
    const spec = this.#spec();
    const state = this.#state();
    if (!spec || !state) return;
    const now = Date.now();
    const config = this.#config();
    if (reclaimExpired(this.#sql, now) > 0) await this.#afterChange(spec, now, true);
    if (spec.webhook) {
      await deliverDue(this.#sql, {
        jobId: spec.id,
        url: spec.webhook.url,
        sealedSecret: spec.webhook.sealedSecret,
        masterSecret: config.JWT_SECRET_KEY,
        allowPrivateTargets: spec.allowPrivateTargets,
        retryBaseMs: config.JOB_RETRY_BASE_MS,
        now: Date.now,
      });
    }
    if (this.#state()?.indexDirty) await this.#syncIndex(now);
    const next = [earliestLease(this.#sql), nextDeliveryAt(this.#sql), this.#state()?.indexDirty ? now + 1000 : null].filter(
      (t): t is number => t !== null,
    );
    if (next.length > 0) await this.ctx.storage.setAlarm(Math.max(Date.now() + 10, Math.min(...next)));
  }

  // ---- private ----

  /** After pages changed: finish the job, or tell the scheduler when it has due work again. */
  async #afterChange(spec: StoredJobSpec, now: number, wakeScheduler = false): Promise<WakeRequest | null> {
    const c = countPages(this.#sql);
    const state = this.#state()!;
    if (c.pending === 0 && c.leased === 0 && !TERMINAL_STATUSES.includes(state.status)) {
      await this.#finish(now, c);
      return null;
    }
    this.#progressEvent(spec, state, c, now);
    await this.#syncIndex(now, c);
    if ((state.status !== 'queued' && state.status !== 'running') || c.pending === 0) return null;
    const wake: WakeRequest = {
      jobId: spec.id,
      tenant: spec.tenant,
      rank: PRIORITIES.indexOf(spec.priority),
      at: nextDue(this.#sql) ?? now,
    };
    if (wakeScheduler) await schedulerStub(this.env).enqueue(wake.jobId, wake.tenant, wake.rank, wake.at);
    return wake;
  }

  async #finish(now: number, counts = countPages(this.#sql)): Promise<void> {
    const spec = this.#spec()!;
    const state = this.#state()!;
    const status: JobStatus = counts.done === 0 && counts.failed > 0 ? 'failed' : 'completed';
    this.ctx.storage.transactionSync(() => {
      this.#put('state', { ...state, status, activeMs: activeMsOf(state, now), runningSince: null, finishedAt: now });
      this.#webhookEvent(spec, status, now);
    });
    await this.#syncIndex(now, counts);
    await this.#ensureAlarm(now);
  }

  #webhookEvent(spec: StoredJobSpec, event: JobEvent, now: number, key = `${spec.id}.${event}`): void {
    if (!spec.webhook || !spec.webhook.events.includes(event)) return;
    scheduleDelivery(this.#sql, key, event, jobEventBody(spec, this.#state()!, countPages(this.#sql)), now);
  }

  /** With the `progress` event: one delivery per 10 % step. */
  #progressEvent(spec: StoredJobSpec, state: JobState, c: PageCounts, now: number): void {
    const step = dueProgressStep(spec, state, c);
    if (step === null) return;
    this.#put('state', { ...state, progressStep: step });
    this.#webhookEvent(spec, 'progress', now, `${spec.id}.progress.${step * 10}`);
    void this.#ensureAlarm(now);
  }

  /** Mirrors status and counts into the D1 `jobs` row (GET /jobs lists from it). A failure is retried by the alarm. */
  async #syncIndex(now: number, counts = countPages(this.#sql)): Promise<void> {
    const state = this.#state()!;
    try {
      await updateJobRow(this.env.DB, this.#spec()!.id, jobRowUpdate(state, counts), now);
      if (state.indexDirty) this.#put('state', { ...this.#state()!, indexDirty: false });
    } catch (err) {
      console.error('jobs: D1 index update failed; the alarm retries', { job: this.#spec()!.id, error: String(err) });
      this.#put('state', { ...this.#state()!, indexDirty: true });
      await this.#ensureAlarm(now + 1000);
    }
  }

  async #ensureAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  #config(): Config {
    const result = loadConfig(this.env);
    if (!result.ok) throw new Error('crawlgate misconfigured: jobs cannot run');
    return result.config;
  }

  #put(k: string, v: unknown): void {
    writeMeta(this.#sql, k, v);
  }

  #spec(): StoredJobSpec | undefined {
    return readMeta<StoredJobSpec>(this.#sql, 'spec');
  }

  #state(): JobState | undefined {
    return readMeta<JobState>(this.#sql, 'state');
  }
}
