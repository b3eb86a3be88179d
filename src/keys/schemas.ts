/** Request and response schemas of the key admin API (they validate and document each route). */
import { z } from '@hono/zod-openapi';
import { normalizeScopes, PERMISSIONS, SCOPE_ALIASES } from '../auth/rbac';
import { parseRateLimit } from '../ratelimit/limit-spec';
import { displayText } from '../http/display-text';
import { BudgetBody, BudgetViewSchema } from '../metering/budgets';

const SCOPE_HELP = `one of ${[...PERMISSIONS, ...Object.keys(SCOPE_ALIASES)].join(', ')} (or a "group:*" wildcard)`;

/** Only scopes that exist can be granted (unknown names are a 422 naming them). */
const scopeList = z
  .array(z.string().max(64))
  .min(1)
  .max(32)
  .superRefine((scopes, ctx) => {
    scopes.forEach((s, i) => {
      if (!normalizeScopes([s]))
        ctx.addIssue({ code: 'custom', path: [i], message: `unknown scope "${s.slice(0, 64)}"; use ${SCOPE_HELP}` });
    });
  })
  .openapi({ example: ['crawl:run', 'crawl:screenshot'] });

const rateLimit = z
  .string()
  .max(32)
  .refine((v) => parseRateLimit(v) !== null, 'must look like "1000/minute" (second, minute, hour or day)')
  .openapi({ example: '1000/minute' });

export const OWNER_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

export const CreateKeyBody = z
  .object({
    name: displayText(100),
    scopes: scopeList,
    rate_limit: rateLimit.optional(),
    max_concurrency: z.number().int().min(1).max(1000).optional(),
    expires_at: z.iso.datetime({ offset: true }).optional().openapi({ example: '2027-01-01T00:00:00Z' }),
    owner: z
      .string()
      .regex(OWNER_PATTERN, 'must be 1-64 of A-Z a-z 0-9 . _ @ -')
      .optional()
      .openapi({ description: "an existing user's username or id; stored as the user's id (usr_...)" }),
    environment: z.enum(['live', 'test']).optional().openapi({ description: 'cg_live_ (default) or cg_test_ prefix' }),
    budget: BudgetBody.optional().openapi({ description: 'credits per day or month (docs/metering.md)' }),
  })
  .strict()
  .openapi('CreateKeyRequest');

export const RotateKeyBody = z
  .object({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .optional()
      .openapi({ description: 'How long the old key keeps working (default 0: it stops at once; at most 30 days)' }),
  })
  .strict()
  .openapi('RotateKeyRequest');

export const UpdateKeyBody = z
  .object({
    disabled: z.boolean().optional().openapi({ description: 'true disables an active key; false re-enables a disabled one' }),
    budget: BudgetBody.nullable()
      .optional()
      .openapi({ description: 'a new budget (counters of the current period kept), or null to remove it' }),
  })
  .strict()
  .refine((b) => b.disabled !== undefined || b.budget !== undefined, 'name at least one of disabled, budget')
  .openapi('UpdateKeyRequest');

export const ListKeysQuery = z.object({
  source: z
    .enum(['stored', 'config'])
    .optional()
    .openapi({ description: 'stored (default): keys in D1, paginated; config: the API_KEYS seed keys' }),
  status: z.enum(['active', 'expired', 'rotated', 'revoked', 'disabled']).optional(),
  owner: z.string().regex(OWNER_PATTERN).optional(),
  cursor: z.string().max(200).optional().openapi({ description: 'next_cursor from the previous page' }),
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: '1-100, default 50' }),
});

export const KeyIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'key_3kTMd9Xq1fP7aZbQ' }),
});

export const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'first characters of the key, for recognising it; not a secret' }),
    scopes: z.array(z.string()),
    rate_limit: z.string().nullable(),
    max_concurrency: z.number().int().nullable(),
    owner: z.string().nullable().openapi({ description: "the owning user's id (usr_...): the key acts for that tenant" }),
    owner_name: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "the owner's current username (a label; null when the user was deleted)" }),
    status: z.enum(['active', 'expired', 'rotated', 'revoked', 'disabled']),
    environment: z.enum(['live', 'test', 'seed']),
    created_at: z.string().nullable().openapi({ description: 'null for API_KEYS seed keys' }),
    created_by: z.string().nullable(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    rotated_from: z.string().nullable(),
    rotated_to: z.string().nullable(),
    grace_until: z.string().nullable(),
    last_used_at: z.string().nullable(),
    budget: BudgetViewSchema.nullable().optional().openapi({ description: "the key's budget with what is used this period; null = none" }),
  })
  .openapi('ApiKey');

export const IssuedKeySchema = KeySchema.extend({
  key: z.string().openapi({ description: 'the secret key: shown this once, store it now', example: 'cg_live_…' }),
}).openapi('IssuedApiKey');

export const RotatedKeySchema = IssuedKeySchema.extend({
  old_key: z.object({ id: z.string(), status: z.string(), grace_until: z.string().nullable() }),
}).openapi('RotatedApiKey');

export const KeyListSchema = z.object({ keys: z.array(KeySchema), next_cursor: z.string().nullable() }).openapi('ApiKeyList');

export const ValidateKeySchema = z
  .object({
    valid: z.literal(true),
    key_id: z.string(),
    name: z.string(),
    scopes: z.array(z.string()).openapi({ description: 'the scopes as configured (seed keys keep their seed names)' }),
    permissions: z.array(z.string()),
    rate_limit: z.string().nullable(),
  })
  .openapi('ApiKeyValidation');

/** Self-service creation (`POST /keys`): the owner is always the caller, so there is no `owner` field. */
export const CreateOwnKeyBody = CreateKeyBody.omit({ owner: true }).strict().openapi('CreateOwnKeyRequest');

/** Self-service listing: the caller's own keys, so no `owner` or `source`. */
export const ListOwnKeysQuery = ListKeysQuery.omit({ owner: true, source: true });
