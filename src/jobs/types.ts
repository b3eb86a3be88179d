/** Shapes shared by the jobs module: the job DO, the scheduler, the queue consumer and the routes. */
import type { Principal } from '../auth/principal';
import type { Permission } from '../auth/rbac';
import type { EngineChoice } from '../crawl/handle';
import type { WebhookEvent } from '../webhooks/events';

export const JOB_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** Priorities, most urgent first; the index is the scheduler's rank. */
export const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Why the gateway paused a job whose creator may no longer act (src/jobs/principal-check.ts). */
export const PRINCIPAL_REASONS = ['principal_revoked', 'principal_disabled'] as const;
export type PrincipalReason = (typeof PRINCIPAL_REASONS)[number];

/** The part of the creator's identity a job keeps (never a credential). */
/**
 * Who a job acts for, as captured at creation. `requires`: the permissions its request used
 * (`jobs:write`, `crawl:run` and its fields' own, e.g. `crawl:js`); a user who no longer holds one of
 * them pauses the job (principal-check.ts). Absent on jobs created before it was recorded.
 */
export type JobPrincipal = Pick<Principal, 'kind' | 'id' | 'name' | 'roles' | 'permissions' | 'owner'> & { requires?: Permission[] };

/** What a job was created with; kept in the job's Durable Object. */
export interface JobSpec {
  id: string;
  tenant: string;
  principal: JobPrincipal;
  priority: Priority;
  engine: EngineChoice;
  /** The policy-checked request body without `urls` (browser_config, crawler_config, ...). */
  body: Record<string, unknown>;
  urls: string[];
  /** crawler_config's session_id as the client named it (for usage analytics), or null. */
  sessionId: string | null;
  webhook: { url: string; sealedSecret: string; events: WebhookEvent[] } | null;
  /**
   * ALLOW_PRIVATE_TARGETS as it was when the job was created (a development-only switch: the
   * production config refuses it). The job's pages and webhook are checked under it.
   */
  allowPrivateTargets: boolean;
  requestId: string;
  createdAt: number;
}

/** One page handed to a consumer. */
export interface WorkItem {
  idx: number;
  url: string;
  /** Attempts already made before this one. */
  attempts: number;
}

/** What a consumer needs to run a claimed batch. */
export interface BatchWork {
  jobId: string;
  batchId: string;
  tenant: string;
  principal: JobPrincipal;
  engine: EngineChoice;
  body: Record<string, unknown>;
  sessionId: string | null;
  allowPrivateTargets: boolean;
  items: WorkItem[];
}

/** The queue message: just ids; the work is read from the job's object (it may have been cancelled). */
export interface BatchMessage {
  jobId: string;
  batchId: string;
}

/** A page's outcome as the consumer reports it to the job. */
export interface PageOutcome {
  idx: number;
  /** done: recorded success; failed: recorded final failure; retry: try again after `retryAfterMs`. */
  kind: 'done' | 'failed' | 'retry';
  statusCode: number | null;
  durationMs: number;
  bytes: number;
  error: string | null;
  /** For `retry`: the server's Retry-After, when it sent one. */
  retryAfterMs?: number;
  /** For `retry`: the page never reached its host (`host_busy`), so the attempt does not count. */
  deferred?: boolean;
}
