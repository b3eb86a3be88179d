/**
 * The JOBS_QUEUE consumer: each message names one batch of one job. It reads the batch from the
 * job's object (nothing, if the job was cancelled or the batch reclaimed), crawls its pages a few
 * at a time, records final pages in D1 (upserts: a batch that runs twice leaves one record per
 * page) together with the usage delta, reports every outcome to the job, and gives the slot back
 * to the scheduler. Before crawling, the job's principal is re-checked (src/jobs/principal-check.ts):
 * a revoked or disabled one pauses the job with the reason and the batch runs nothing. Any
 * failure before the report retries the message; the job ignores a report for a batch it no
 * longer leases, so redelivery never counts a page twice.
 */
import type { Env } from '../env';
import { loadConfig, type Config } from '../config';
import { completionOrder } from '../engines/pool';
import { classifyResult, finalVerdict } from './retry';
import { recordStatements, type PageRecord } from './results';
import { usageStatement } from './usage';
import { jobPagesStatement } from '../metering/job-usage';
import { crawlPage as defaultCrawl } from './page-crawler';
import { countJobPages, flushMetrics } from '../metrics/recorder';
import { jobStub, schedulerStub } from './stubs';
import { checkJobPrincipal, type PrincipalVerdict } from './principal-check';
import type { BatchMessage, BatchWork, PageOutcome, WorkItem } from './types';

/** Pages of one batch crawled at once. */
export const PAGE_CONCURRENCY = 5;

interface Attempted {
  item: WorkItem;
  outcome: PageOutcome;
  record: PageRecord | null;
}

type CrawlFn = typeof defaultCrawl;

async function attemptPage(env: Env, config: Config, work: BatchWork, item: WorkItem, crawl: CrawlFn): Promise<Attempted> {
  const started = Date.now();
  const result = await crawl(
    env,
    config,
    work,
    item.url,
    `${work.jobId}/${item.idx}/${item.attempts + 1}`,
    AbortSignal.timeout(config.ORIGIN_TIMEOUT_MS + 5000),
  );
  const durationMs = Date.now() - started;
  const deferred = result.error_code === 'host_busy';
  const classified = classifyResult(result, Date.now());
  const verdict = deferred ? classified : finalVerdict(classified, item.attempts + 1, config.JOB_MAX_ATTEMPTS);
  const bytes = result.html?.length ?? 0;
  const error = verdict.kind === 'done' ? null : (result.error_message ?? `HTTP ${result.status_code ?? 'error'}`);
  const outcome: PageOutcome = {
    idx: item.idx,
    kind: verdict.kind,
    statusCode: result.status_code,
    durationMs,
    bytes,
    error,
    ...(verdict.kind === 'retry' && verdict.retryAfterMs !== undefined ? { retryAfterMs: verdict.retryAfterMs } : {}),
    ...(deferred ? { deferred: true } : {}),
  };
  const record: PageRecord | null =
    verdict.kind === 'retry'
      ? null
      : {
          idx: item.idx,
          url: item.url,
          success: verdict.kind === 'done',
          statusCode: result.status_code,
          attempts: item.attempts + 1,
          durationMs,
          bytes,
          error,
          result,
        };
  return { item, outcome, record };
}

/** Crawls a batch, records its final pages and usage in D1, and returns every page's outcome. */
export async function runBatch(env: Env, config: Config, work: BatchWork, crawlPage: CrawlFn = defaultCrawl): Promise<PageOutcome[]> {
  const attempted: Attempted[] = [];
  for await (const a of completionOrder(work.items, PAGE_CONCURRENCY, (item) => attemptPage(env, config, work, item, crawlPage)))
    attempted.push(a);
  const now = Date.now();
  const records = attempted.flatMap((a) => (a.record ? [a.record] : []));
  const statements = await recordStatements(env, work.jobId, records, now);
  statements.push(
    usageStatement(
      env.DB,
      {
        tenant: work.tenant,
        principalId: work.principal.id,
        sessionId: work.sessionId,
        pages: attempted.length,
        errors: attempted.filter((a) => a.outcome.kind !== 'done').length,
        bytes: attempted.reduce((n, a) => n + a.outcome.bytes, 0),
        totalMs: attempted.reduce((n, a) => n + a.outcome.durationMs, 0),
      },
      now,
    ),
  );
  // Metering (docs/metering.md): the job's pages join the rollups in the same batch (charged at submission).
  statements.push(
    jobPagesStatement(
      env.DB,
      work,
      attempted.map((a) => a.outcome),
      now,
    ),
  );
  await env.DB.batch(statements);
  for (const kind of ['done', 'failed', 'retry'] as const)
    countJobPages(work.engine, kind, attempted.filter((a) => a.outcome.kind === kind).length);
  return attempted.map((a) => a.outcome);
}

/** One principal check per principal per queue delivery (its batches run concurrently). */
type PrincipalChecks = Map<string, Promise<PrincipalVerdict>>;

async function handle(env: Env, config: Config, msg: BatchMessage, checks: PrincipalChecks): Promise<void> {
  const job = jobStub(env, msg.jobId);
  // The RPC stub types `work()` as never (its `body: Record<string, unknown>` is not Rpc.Serializable).
  const work = (await job.work(msg.batchId)) as BatchWork | null;
  let wake = null;
  if (work) {
    const key = `${work.principal.kind}:${work.principal.id}:${(work.principal.requires ?? []).join(' ')}`;
    let check = checks.get(key);
    if (!check) checks.set(key, (check = checkJobPrincipal(env, config, work.principal, Date.now())));
    const verdict = await check;
    if (verdict.ok) {
      const outcomes = await runBatch(env, config, work);
      wake = await job.report(msg.batchId, outcomes);
    } else {
      // Nothing of this batch runs: its pages go back and the job pauses with the reason.
      console.warn('jobs: principal may no longer act; pausing the job', {
        job: msg.jobId,
        reason: verdict.reason,
        detail: verdict.detail,
      });
      await job.suspend(msg.batchId, verdict.reason);
    }
  }
  await schedulerStub(env).release(msg.batchId, wake);
}

/** The Worker's `queue()` handler for JOBS_QUEUE. Messages of one delivery run concurrently. */
export async function consumeJobBatches(batch: MessageBatch<BatchMessage>, env: Env): Promise<void> {
  const result = loadConfig(env);
  if (!result.ok) {
    batch.retryAll({ delaySeconds: 30 });
    return;
  }
  const checks: PrincipalChecks = new Map();
  await Promise.all(
    batch.messages.map(async (m) => {
      try {
        await handle(env, result.config, m.body, checks);
        m.ack();
      } catch (err) {
        console.error('jobs: batch failed; retrying the message', {
          job: m.body.jobId,
          batch: m.body.batchId,
          attempt: m.attempts,
          error: String(err),
        });
        m.retry({ delaySeconds: Math.min(60, 2 ** m.attempts) });
      }
    }),
  );
  await flushMetrics(env);
}
