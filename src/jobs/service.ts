/**
 * What the job routes do, as plain functions over (env, config, principal): create a job through
 * the same crawl policy as `/crawl` (permissions, egress check of every URL, per-field rules),
 * read it, control it, list it. Ownership: a job belongs to the creator's tenant (`tenantOf`);
 * admins see every job. Another tenant's job is a 404, exactly like a missing one.
 */
import type { Env } from '../env';
import type { Config } from '../config';
import type { Principal } from '../auth/principal';
import { tenantOf } from '../auth/principal';
import { GatewayError } from '../http/errors';
import { decideCrawlPolicy, policyContextFor } from '../crawl/policy';
import { chooseEngine } from '../crawl/handle';
import { checkTargetUrl } from '../crawl/egress';
import { sealSecret } from '../webhooks/secret-box';
import { deleteJobRow, findJobRow, insertJobRow, newJobId, type JobRow } from './job-index';
import { jobStub } from './stubs';
import type { JobSnapshot } from './job-snapshot';
import { PRINCIPAL_REASONS, type JobSpec, type Priority } from './types';
import type { WebhookEvent } from '../webhooks/events';

export interface CreateJobInput {
  urls: string[];
  engine?: 'fetch' | 'browser';
  browser_config?: unknown;
  crawler_config?: unknown;
  priority: Priority;
  webhook?: { url: string; secret: string; events?: WebhookEvent[] };
  [extra: string]: unknown;
}

/** True for principals that see every tenant's jobs and usage. */
export function isAdmin(p: Principal): boolean {
  return p.roles.includes('admin');
}

/** The tenant filter for reads: the caller's own tenant, or null (everything) for admins. */
export function readScope(p: Principal): string | null {
  return isAdmin(p) ? null : tenantOf(p);
}

function sessionIdOf(body: Record<string, unknown>): string | null {
  const cc = body.crawler_config as { params?: { session_id?: unknown } } | undefined;
  const id = cc?.params?.session_id ?? body.session_id;
  return typeof id === 'string' && id !== '' ? id.slice(0, 128) : null;
}

export async function createJob(
  env: Env,
  config: Config,
  principal: Principal,
  input: CreateJobInput,
  requestId: string,
  now = Date.now(),
): Promise<{ id: string; total: number; engine: string }> {
  const { priority, webhook, ...crawl } = input;
  const tenant = tenantOf(principal);
  const decision = decideCrawlPolicy('crawl', crawl, policyContextFor(principal, config, config.JOB_MAX_URLS));
  const engine = chooseEngine(config.ORIGIN_URL, decision.engine, 'fetch');
  if (engine === 'browser' && !env.BROWSER)
    throw new GatewayError('service_unavailable', 'The browser engine needs the BROWSER (Browser Rendering) binding');
  const id = newJobId();
  let sealedWebhook: JobSpec['webhook'] = null;
  if (webhook) {
    const target = checkTargetUrl(webhook.url, { allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS });
    if (!target.ok)
      throw new GatewayError('url_not_allowed', `webhook.url is not allowed: ${target.reason}`, {
        extras: { field: 'webhook.url', reason: target.reason },
      });
    sealedWebhook = {
      url: target.url.href,
      sealedSecret: await sealSecret(config.JWT_SECRET_KEY, id, webhook.secret),
      events: webhook.events ?? ['completed', 'failed', 'cancelled'],
    };
  }
  const { urls: _urls, ...body } = decision.body;
  const spec: JobSpec = {
    id,
    tenant,
    principal: {
      kind: principal.kind,
      id: principal.id,
      name: principal.name,
      roles: principal.roles,
      permissions: principal.permissions,
      owner: principal.owner,
      requires: ['jobs:write', ...decision.needs],
    },
    priority,
    engine,
    body,
    urls: decision.urls,
    sessionId: sessionIdOf(crawl),
    webhook: sealedWebhook,
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
    requestId,
    createdAt: now,
  };
  await insertJobRow(env.DB, {
    id,
    tenant,
    principal_id: principal.id,
    status: 'queued',
    priority,
    engine,
    session_id: spec.sessionId,
    total: decision.urls.length,
    created_at: now,
  });
  try {
    await jobStub(env, id).create(spec);
  } catch (err) {
    // Nothing half-written: without its object the job cannot run, so its index row goes too.
    await deleteJobRow(env.DB, id).catch(() => undefined);
    console.error('jobs: creating the job object failed', { job: id, error: String(err) });
    throw new GatewayError('service_unavailable', 'The job could not be created; try again');
  }
  return { id, total: decision.urls.length, engine };
}

/** The job row when the caller may see it; 404 otherwise. */
export async function visibleJob(env: Env, principal: Principal, id: string): Promise<JobRow> {
  const row = await findJobRow(env.DB, id, readScope(principal));
  if (!row) throw new GatewayError('not_found', 'No such job');
  return row;
}

/** Live status from the job's object. */
export async function jobStatus(env: Env, principal: Principal, id: string): Promise<JobSnapshot> {
  await visibleJob(env, principal, id);
  const snap = await jobStub(env, id).snapshot();
  if (!snap) throw new GatewayError('not_found', 'No such job');
  return snap;
}

export type JobAction = 'cancel' | 'pause' | 'resume';

export async function controlJob(env: Env, principal: Principal, id: string, action: JobAction): Promise<JobSnapshot> {
  await visibleJob(env, principal, id);
  const stub = jobStub(env, id);
  const result = action === 'cancel' ? await stub.cancel() : action === 'pause' ? await stub.pause() : await stub.resume();
  if ('error' in result) {
    if (result.error === 'not_found') throw new GatewayError('not_found', 'No such job');
    if ((PRINCIPAL_REASONS as readonly string[]).includes(result.error)) {
      throw new GatewayError('conflict', `Cannot ${action} this job: the key or user that created it may no longer act (${result.error})`, {
        extras: { reason: result.error },
      });
    }
    throw new GatewayError('conflict', `Cannot ${action} this job: ${result.error}`);
  }
  return result;
}
