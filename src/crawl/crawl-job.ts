/**
 * `POST /crawl/job` and `GET /crawl/job/{task_id}` as services: the router parses and answers, this
 * module decides who runs the task (the origin's own task queue, or the gateway's jobs when there
 * is no origin or an edge engine is named) and reads the origin's reply.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { principalOf } from '../auth/principal';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { enforcePolicy } from './handle';
import { forwardToOrigin } from './origin/forward';
import { toOrigin } from './origin-body';
import { ownsTask, recordTask } from './origin/ownership';
import { TaskIdSchema } from './schemas';
import { createJob, type CreateJobInput } from '../jobs/service';
import { crawl4aiTaskView } from '../jobs/crawl4ai-task';
import { JOB_ID } from '../jobs/job-index';

/**
 * Queues a crawl for the caller: on the gateway's jobs (docs/jobs.md) when there is no origin or the
 * body names an edge engine, else on the origin, recording the origin's task id for the caller.
 */
export async function submitCrawlJob(c: Context<AppEnv>, body: Record<string, unknown>): Promise<Response> {
  const decision = enforcePolicy(c, 'job', body);
  if (!c.get('config').ORIGIN_URL || decision.engine) {
    // The gateway's own job machinery runs it, with the same checks as POST /jobs — the webhook
    // included (its schema, ≥ 32-byte secret).
    const { webhook_config: _ignored, webhook, urls, ...crawl } = decision.body;
    const input: CreateJobInput = {
      ...crawl,
      urls: urls as string[],
      ...(decision.engine ? { engine: decision.engine } : {}),
      priority: 'normal',
    };
    if (webhook) input.webhook = webhook as NonNullable<CreateJobInput['webhook']>;
    const job = await createJob(c.env, c.get('config'), principalOf(c), input, c.get('requestId'));
    audit(c, { action: 'job_created', outcome: 'success', status: 202, details: { job_id: job.id, urls: job.total, engine: job.engine } });
    return c.json({ task_id: job.id }, 202);
  }
  if (decision.body.webhook !== undefined) {
    throw new GatewayError(
      'validation_failed',
      "Invalid request: $.webhook: the origin's tasks take webhook_config; webhook is for the gateway's jobs",
      { extras: { errors: [{ path: '$.webhook', message: 'use webhook_config with an origin' }] } },
    );
  }
  const principal = principalOf(c);
  const res = await forwardToOrigin(c, {
    method: 'POST',
    path: '/crawl/job',
    body: JSON.stringify(toOrigin(c, 'job', decision.body)),
    contentType: 'application/json',
  });
  if (res.status < 200 || res.status >= 300) return res;
  const text = await res.text();
  const taskId = originTaskId(text);
  // Fail closed: a task we could not record would be unreadable (or worse, unowned).
  await recordTask(c.env.DB, taskId, principal);
  audit(c, { action: 'job_created', outcome: 'success', status: res.status, details: { task_id: taskId, urls: decision.urls.length } });
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  return new Response(text, { status: res.status, headers });
}

/** The `task_id` of the origin's 2xx reply to `POST /crawl/job`; 502 when it has none usable. */
export function originTaskId(text: string): string {
  let taskId: unknown;
  try {
    taskId = (JSON.parse(text) as { task_id?: unknown }).task_id;
  } catch {
    taskId = undefined;
  }
  if (typeof taskId !== 'string' || !TaskIdSchema.safeParse(taskId).success) {
    throw new GatewayError('origin_unavailable', 'The origin answered without a usable task_id');
  }
  return taskId;
}

/** Status of one of the caller's tasks: a gateway job's Crawl4AI view, or the origin's answer. */
export async function crawlJobStatus(c: Context<AppEnv>, taskId: string): Promise<Response> {
  const principal = principalOf(c);
  if (JOB_ID.test(taskId)) return c.json(await crawl4aiTaskView(c.env, principal, taskId), 200);
  if (!c.get('config').ORIGIN_URL) throw new GatewayError('not_found', 'No such task');
  // BOLA (OWASP API1:2023): another tenant's task answers exactly like an unknown one.
  if (!(await ownsTask(c.env.DB, taskId, principal))) throw new GatewayError('not_found', 'No such task');
  return forwardToOrigin(c, { method: 'GET', path: `/crawl/job/${encodeURIComponent(taskId)}` });
}
