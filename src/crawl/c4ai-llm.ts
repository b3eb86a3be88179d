/**
 * The LLM routes of Crawl4AI 0.9 (src/crawl/crawl4ai-routes.ts declares them): the provider is
 * chosen by name only (a `base_url` is refused), every target and webhook URL passes the egress
 * policy, and a queued LLM task is recorded as the caller's before its id is answered.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { principalOf } from '../auth/principal';
import { audit } from '../audit/audit';
import { forwardToOrigin } from './origin/forward';
import { PRINTABLE } from './options/kinds';
import { TaskIdSchema } from './schemas';
import { checkTargetUrl } from './egress';
import { isRawHtml, MAX_RAW_HTML_CHARS } from '../engines/raw-html';
import { recordTask } from './origin/ownership';

/** An LLM provider by name (`openai/gpt-4o-mini`); its endpoint and key are the origin's. */
export const Provider = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.:@/-]+$/, 'must be a provider name like openai/gpt-4o-mini');

export function noLlm(): GatewayError {
  return new GatewayError(
    'not_implemented',
    'LLM routes need an origin crawler with an LLM configured (ORIGIN_URL); the edge engines have no LLM',
  );
}

export function refuseBaseUrl(present: boolean, path: string): void {
  if (!present) return;
  throw new GatewayError(
    'validation_failed',
    `Invalid request: ${path}: base_url is not accepted; select the LLM provider by name (Crawl4AI 0.9)`,
    { extras: { errors: [{ path, message: 'not allowed through the gateway' }] } },
  );
}

/** A target as Crawl4AI's `/llm` reads it (scheme-less → https), egress-checked; `raw:` HTML kept. */
export function llmTarget(c: Context<AppEnv>, raw: string, path: string): string {
  if (isRawHtml(raw)) {
    if (raw.length > MAX_RAW_HTML_CHARS)
      throw new GatewayError('validation_failed', `Invalid request: ${path}: raw: HTML too long`, {
        extras: { errors: [{ path, message: 'too long' }] },
      });
    return raw;
  }
  const candidate = /^https?:\/\//i.test(raw) ? raw : `https://${raw}`;
  const r = checkTargetUrl(candidate, { allowPrivateTargets: c.get('config').ALLOW_PRIVATE_TARGETS });
  if (!r.ok) throw new GatewayError('url_not_allowed', `${path}: ${r.reason}`, { extras: { field: path, reason: r.reason } });
  return r.url.href;
}

/** Whether an origin crawler is configured (ORIGIN_URL): the LLM routes need one. */
export const hasOrigin = (c: Context<AppEnv>) => Boolean(c.get('config').ORIGIN_URL);

const HeaderMap = z
  .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(4096).regex(PRINTABLE))
  .refine((m) => Object.keys(m).length <= 20, 'at most 20 headers');
export const LlmJobBody = z
  .object({
    url: z.string().min(1).max(MAX_RAW_HTML_CHARS),
    q: z.string().min(1).max(2000),
    schema: z.string().max(100_000).nullable().optional(),
    cache: z.boolean().optional(),
    provider: Provider.nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    webhook_config: z
      .strictObject({
        webhook_url: z.string().max(8192),
        webhook_data_in_payload: z.boolean().optional(),
        webhook_headers: HeaderMap.optional(),
      })
      .nullable()
      .optional(),
    base_url: z.unknown().optional().openapi({ description: 'Refused: the provider is chosen by name' }),
  })
  .strict()
  .openapi('LlmJobRequest');

/** POST /llm/job: queues the extraction on the origin; the task belongs to the caller. */
export async function createLlmJob(c: Context<AppEnv>, { base_url, ...input }: z.infer<typeof LlmJobBody>): Promise<Response> {
  refuseBaseUrl(base_url !== undefined, '$.base_url');
  const body: Record<string, unknown> = { ...input, url: llmTarget(c, input.url, '$.url') };
  if (input.webhook_config)
    body.webhook_config = {
      ...input.webhook_config,
      webhook_url: llmTarget(c, input.webhook_config.webhook_url, '$.webhook_config.webhook_url'),
    };
  if (!hasOrigin(c)) throw noLlm();
  const res = await forwardToOrigin(c, { method: 'POST', path: '/llm/job', body: JSON.stringify(body), contentType: 'application/json' });
  if (res.status < 200 || res.status >= 300) return res;
  const text = await res.text();
  let taskId: unknown;
  try {
    taskId = (JSON.parse(text) as { task_id?: unknown }).task_id;
  } catch {
    taskId = undefined;
  }
  if (typeof taskId !== 'string' || !TaskIdSchema.safeParse(taskId).success)
    throw new GatewayError('origin_unavailable', 'The origin answered without a usable task_id');
  // Fail closed: an unrecorded task would be unreadable (or unowned).
  await recordTask(c.env.DB, taskId, principalOf(c));
  audit(c, { action: 'job_created', outcome: 'success', status: res.status, details: { task_id: taskId, route: 'llm_job' } });
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  return new Response(text, { status: res.status, headers });
}
