/**
 * Request and response schemas of the jobs API (src/routes/jobs.ts, docs/jobs.md): what POST /jobs
 * accepts and what the job routes answer, named for the OpenAPI document.
 */
import { z } from '@hono/zod-openapi';
import { ConfigObjectSchema, JobWebhookSchema } from '../crawl/schemas';
import { JOB_ID } from '../jobs/job-index';
import { JOB_STATUSES, PRINCIPAL_REASONS, PRIORITIES } from '../jobs/types';

export const JobIdSchema = z.string().regex(JOB_ID, 'must be a job id (job_...)');
export const AnyObject = z.record(z.string(), z.unknown());

export const JobCreateSchema = z
  .object({
    urls: z
      .array(z.string().max(8192))
      .min(1)
      .max(10_000)
      .openapi({ example: ['https://example.com/a', 'https://example.com/b'] }),
    engine: z.enum(['fetch', 'browser']).optional(),
    browser_config: ConfigObjectSchema.optional(),
    crawler_config: ConfigObjectSchema.optional(),
    priority: z.enum(PRIORITIES).default('normal'),
    webhook: JobWebhookSchema.optional(),
  })
  .catchall(z.unknown())
  .openapi('JobCreateRequest');

export const JobAcceptedSchema = z
  .object({
    job_id: z.string(),
    status: z.literal('queued'),
    total: z.number(),
    priority: z.enum(PRIORITIES),
    engine: z.string(),
    status_url: z.string(),
  })
  .openapi('JobAccepted');
export const JobStatusSchema = AnyObject.openapi('JobStatus');
export const JobSummarySchema = z.object({
  job_id: z.string(),
  status: z.enum(JOB_STATUSES),
  status_reason: z
    .enum(PRINCIPAL_REASONS)
    .nullable()
    .openapi({ description: 'why the gateway paused the job: its key or user was revoked/deleted or disabled' }),
  priority: z.enum(PRIORITIES),
  engine: z.string(),
  total: z.number(),
  done: z.number(),
  failed: z.number(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});
