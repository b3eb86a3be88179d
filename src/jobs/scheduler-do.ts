/**
 * JobScheduler: one object (named "global") that hands out work slots. It knows which jobs have
 * due work (`runnable`) and which batches are in flight (`inflight`); when a slot is free it asks
 * the most urgent eligible job (src/jobs/schedule.ts) for a batch and sends the batch's id to the
 * JOBS_QUEUE. Because at most JOB_CONCURRENCY batches are ever queued or running, an urgent job
 * submitted behind a 10,000-page one gets the very next free slot (Queues alone are FIFO).
 *
 * All dispatching happens in `alarm()` (one at a time); `enqueue` and `release` only record and
 * set the alarm, so no caller waits on another object. A batch whose consumer vanished holds its
 * slot until its lease ends (JOB_LEASE_MS); the job's own alarm puts its pages back to pending.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { loadConfig } from '../config';
import { pickNext, type Candidate } from './schedule';
import { jobStub } from './stubs';
import type { BatchMessage } from './types';

export class JobScheduler extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(
      'CREATE TABLE IF NOT EXISTS runnable (job_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, rank INTEGER NOT NULL, seq INTEGER NOT NULL, wake_at INTEGER NOT NULL)',
    );
    this.#sql.exec(
      'CREATE TABLE IF NOT EXISTS inflight (batch_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, tenant TEXT NOT NULL, until INTEGER NOT NULL)',
    );
    this.#sql.exec('CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)');
  }

  /** A job has (or will have at `at`) due work. Keeps its place in line if it is already known. */
  async enqueue(jobId: string, tenant: string, rank: number, at: number): Promise<void> {
    const seq = this.#sql
      .exec<{ seq: number }>('INSERT INTO counter (id, seq) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET seq = seq + 1 RETURNING seq')
      .one().seq;
    this.#sql.exec(
      'INSERT INTO runnable (job_id, tenant, rank, seq, wake_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET wake_at = min(wake_at, excluded.wake_at)',
      jobId,
      tenant,
      rank,
      seq,
      at,
    );
    await this.#kick(at);
  }

  /** A batch finished (or was abandoned); `wake` re-registers its job when it has due work again. */
  async release(batchId: string, wake: { jobId: string; tenant: string; rank: number; at: number } | null): Promise<void> {
    this.#sql.exec('DELETE FROM inflight WHERE batch_id = ?', batchId);
    if (wake) await this.enqueue(wake.jobId, wake.tenant, wake.rank, wake.at);
    else await this.#kick(Date.now());
  }

  /** For status pages and tests: what is waiting and what runs. */
  async state(): Promise<{ runnable: Candidate[]; inflight: { batchId: string; jobId: string }[] }> {
    return {
      runnable: this.#candidates(),
      inflight: this.#sql
        .exec<{ batch_id: string; job_id: string }>('SELECT batch_id, job_id FROM inflight')
        .toArray()
        .map((r) => ({ batchId: r.batch_id, jobId: r.job_id })),
    };
  }

  override async alarm(): Promise<void> {
    const result = loadConfig(this.env);
    if (!result.ok) return;
    const config = result.config;
    const limits = { global: config.JOB_CONCURRENCY, perTenant: config.JOB_TENANT_CONCURRENCY, perJob: config.JOB_CONCURRENCY_PER_JOB };
    for (;;) {
      const now = Date.now();
      this.#sql.exec('DELETE FROM inflight WHERE until < ?', now); // lost batches give their slot back
      const pick = pickNext(this.#candidates(), this.#inflightCounts(), limits, now);
      if (!pick) break;
      const claim = await jobStub(this.env, pick.jobId).claim(config.JOB_BATCH_SIZE, now);
      if (claim.kind === 'none') {
        this.#sql.exec('DELETE FROM runnable WHERE job_id = ?', pick.jobId);
      } else if (claim.kind === 'wait') {
        this.#sql.exec('UPDATE runnable SET wake_at = ? WHERE job_id = ?', Math.max(claim.at, now + 10), pick.jobId);
      } else {
        this.#sql.exec(
          'INSERT INTO inflight (batch_id, job_id, tenant, until) VALUES (?, ?, ?, ?)',
          claim.batchId,
          pick.jobId,
          pick.tenant,
          now + config.JOB_LEASE_MS,
        );
        // The job stays runnable; it may have more due pages for the next slot.
        this.#sql.exec('UPDATE runnable SET wake_at = ? WHERE job_id = ?', now, pick.jobId);
        await this.env.JOBS_QUEUE.send({ jobId: pick.jobId, batchId: claim.batchId } satisfies BatchMessage, { contentType: 'json' });
      }
    }
    const next = this.#sql
      .exec<{ at: number | null }>(
        'SELECT min(at) AS at FROM (SELECT min(wake_at) AS at FROM runnable WHERE wake_at > ?1 UNION ALL SELECT min(until) AS at FROM inflight)',
        Date.now(),
      )
      .one().at;
    if (next !== null) await this.#kick(next);
  }

  #candidates(): Candidate[] {
    return this.#sql
      .exec<{ job_id: string; tenant: string; rank: number; seq: number; wake_at: number }>(
        'SELECT job_id, tenant, rank, seq, wake_at FROM runnable',
      )
      .toArray()
      .map((r) => ({ jobId: r.job_id, tenant: r.tenant, rank: r.rank, seq: r.seq, wakeAt: r.wake_at }));
  }

  #inflightCounts() {
    const byJob = new Map<string, number>();
    const byTenant = new Map<string, number>();
    let total = 0;
    for (const r of this.#sql.exec<{ job_id: string; tenant: string }>('SELECT job_id, tenant FROM inflight')) {
      total++;
      byJob.set(r.job_id, (byJob.get(r.job_id) ?? 0) + 1);
      byTenant.set(r.tenant, (byTenant.get(r.tenant) ?? 0) + 1);
    }
    return { total, byJob, byTenant };
  }

  async #kick(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(Math.max(at, Date.now()));
  }
}
