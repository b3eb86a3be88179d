/**
 * /admin/users: create, list, read, change (roles, password, disable) and delete password users
 * (`users:manage`). New passwords are hashed with argon2id (OWASP parameters); a password change
 * or disable invalidates every token the user holds (`tokens_valid_after`). An admin cannot
 * disable or delete their own account, so the last admin cannot lock everyone out by mistake.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../../http/openapi';
import { GatewayError } from '../../http/errors';
import { audit } from '../../audit/audit';
import { principalOf } from '../../auth/principal';
import { ROLES } from '../../auth/rbac';
import { hashPassword, MAX_PASSWORD_BYTES } from '../../auth/password';
import { ensureBootstrapAdmin } from '../../users/bootstrap';
import { limitOwnerKeys, resumeOwnerKeys, revokeOwnerKeys, stopOwnerKeys } from '../../keys/owner-stop';
import {
  deleteUser,
  getUserByUsername,
  insertUser,
  listUsers,
  toPublicUser,
  updateUser,
  USERNAME_PATTERN,
  type UserChanges,
} from '../../users/store';
import { BudgetBody, BudgetViewSchema, readBudgets, setBudget } from '../../metering/budgets';
import type { BudgetView } from '../../metering/budget-ledger';

const Username = z.string().regex(USERNAME_PATTERN, 'must be 1-64 of A-Z a-z 0-9 . _ @ -');
const Password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .refine((p) => new TextEncoder().encode(p).length <= MAX_PASSWORD_BYTES, `must be at most ${MAX_PASSWORD_BYTES} bytes`);
const Roles = z.array(z.enum(ROLES)).max(ROLES.length);

const UserSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    roles: z.array(z.enum(ROLES)),
    disabled: z.boolean(),
    password_changed_at: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    budget: BudgetViewSchema.nullable().optional().openapi({ description: "the user's budget with what is used this period; null = none" }),
  })
  .openapi('User');

const CreateUserSchema = z
  .object({
    username: Username,
    password: Password,
    roles: Roles.default(['user']),
    disabled: z.boolean().default(false),
    budget: BudgetBody.optional(),
  })
  .strict();
const PatchUserSchema = z
  .object({
    roles: Roles.optional(),
    password: Password.optional(),
    disabled: z.boolean().optional(),
    budget: BudgetBody.nullable().optional(),
  })
  .strict()
  .refine(
    (b) => b.roles !== undefined || b.password !== undefined || b.disabled !== undefined || b.budget !== undefined,
    'name at least one of roles, password, disabled, budget',
  );
const UsernameParam = z.object({ username: Username.openapi({ param: { name: 'username', in: 'path' } }) });

const userJson = { content: { 'application/json': { schema: UserSchema } } };

const createUserRoute = protectedRoute({
  method: 'post',
  path: '/admin/users',
  summary: 'Create a user',
  permission: 'users:manage',
  request: jsonBody(CreateUserSchema),
  responses: { 201: { description: 'Created', ...userJson }, ...problemResponses(401, 403, 409, 422) },
});
const listUsersRoute = protectedRoute({
  method: 'get',
  path: '/admin/users',
  summary: 'List users (cursor = last username seen)',
  permission: 'users:manage',
  request: { query: z.object({ cursor: Username.optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }) },
  responses: {
    200: {
      description: 'A page of users',
      content: { 'application/json': { schema: z.object({ users: z.array(UserSchema), next_cursor: z.string().nullable() }) } },
    },
    ...problemResponses(401, 403, 422),
  },
});
const getUserRoute = protectedRoute({
  method: 'get',
  path: '/admin/users/{username}',
  summary: 'Read a user',
  permission: 'users:manage',
  request: { params: UsernameParam },
  responses: { 200: { description: 'The user', ...userJson }, ...problemResponses(401, 403, 404) },
});
const updateUserRoute = protectedRoute({
  method: 'patch',
  path: '/admin/users/{username}',
  summary: 'Change roles, password or disabled (password/disable end all sessions; disable also stops their keys)',
  permission: 'users:manage',
  request: { params: UsernameParam, ...jsonBody(PatchUserSchema) },
  responses: { 200: { description: 'The changed user', ...userJson }, ...problemResponses(401, 403, 404, 409, 422) },
});
const deleteUserRoute = protectedRoute({
  method: 'delete',
  path: '/admin/users/{username}',
  summary: 'Delete a user (their tokens and every key they own stop working at once)',
  permission: 'users:manage',
  request: { params: UsernameParam },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(401, 403, 404, 409) },
});

async function findOr404(c: Context<AppEnv>, username: string) {
  const user = await getUserByUsername(c.env.DB, username);
  if (!user) throw new GatewayError('not_found', `No user "${username}"`);
  return user;
}

/** Public users with their budgets (docs/metering.md; one object call per user that has one). */
async function withBudgets<T extends { id: string }>(c: Context<AppEnv>, users: T[]): Promise<(T & { budget: BudgetView | null })[]> {
  const budgets = await readBudgets(
    c.env,
    'user',
    users.map((u) => u.id),
  );
  return users.map((u) => ({ ...u, budget: budgets.get(u.id) ?? null }));
}

async function withBudget<T extends { id: string }>(c: Context<AppEnv>, user: T): Promise<T & { budget: BudgetView | null }> {
  return (await withBudgets(c, [user]))[0] as T & { budget: BudgetView | null };
}

function isSelf(c: Context<AppEnv>, userId: string): boolean {
  const p = principalOf(c);
  return p.kind === 'user' && p.id === userId;
}

export const adminUsersRouter = createRouter()
  .openapi(createUserRoute, async (c) => {
    const body = c.req.valid('json');
    const now = Date.now();
    const user = await insertUser(
      c.env.DB,
      { username: body.username, passwordHash: hashPassword(body.password), roles: body.roles, disabled: body.disabled },
      now,
    );
    if (!user) throw new GatewayError('conflict', `The username "${body.username}" is taken`);
    const budget = body.budget ? await setBudget(c.env, 'user', user.id, body.budget) : null;
    audit(c, {
      action: 'user_created',
      outcome: 'success',
      status: 201,
      details: { user_id: user.id, username: user.username, roles: user.roles, ...(body.budget ? { budget: body.budget } : {}) },
    });
    return c.json({ ...toPublicUser(user), budget }, 201);
  })
  .openapi(listUsersRoute, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    await ensureBootstrapAdmin(c.env.DB, c.get('config'), Date.now());
    const users = await listUsers(c.env.DB, limit, cursor);
    const next = users.length === limit ? (users[users.length - 1]?.username ?? null) : null;
    return c.json({ users: await withBudgets(c, users.map(toPublicUser)), next_cursor: next }, 200);
  })
  .openapi(getUserRoute, async (c) => c.json(await withBudget(c, toPublicUser(await findOr404(c, c.req.valid('param').username))), 200))
  .openapi(updateUserRoute, async (c) => {
    const body = c.req.valid('json');
    const user = await findOr404(c, c.req.valid('param').username);
    if (isSelf(c, user.id) && (body.disabled === true || (body.roles && !body.roles.includes('admin') && user.roles.includes('admin')))) {
      throw new GatewayError('conflict', 'You cannot disable yourself or remove your own admin role');
    }
    const changes: UserChanges = {
      ...(body.roles ? { roles: body.roles } : {}),
      ...(body.password !== undefined ? { passwordHash: hashPassword(body.password) } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
    };
    const now = Date.now();
    // Disabling stops the user's keys, and new roles bound them, before the row changes; enabling
    // lets them go after (fail closed).
    if (body.disabled === true) await stopOwnerKeys(c.env, user.id, now);
    if (body.roles) await limitOwnerKeys(c.env, user.id, body.roles, now);
    const updated = Object.keys(changes).length ? await updateUser(c.env.DB, user.id, changes, now) : user;
    if (!updated) throw new GatewayError('not_found', `No user "${user.username}"`);
    if (body.disabled === false) await resumeOwnerKeys(c.env, user.id, now);
    if (body.budget !== undefined) await setBudget(c.env, 'user', user.id, body.budget);
    const fields = Object.keys(body);
    audit(c, {
      action: 'user_changed',
      outcome: 'success',
      status: 200,
      details: {
        user_id: user.id,
        username: user.username,
        fields,
        ...(body.roles ? { roles: body.roles } : {}),
        ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
        ...(body.budget !== undefined ? { budget: body.budget } : {}),
      },
    });
    return c.json(await withBudget(c, toPublicUser(updated)), 200);
  })
  .openapi(deleteUserRoute, async (c) => {
    const user = await findOr404(c, c.req.valid('param').username);
    if (isSelf(c, user.id)) throw new GatewayError('conflict', 'You cannot delete yourself');
    // The user's keys stop for good first, so a failure part-way leaves the user to delete again, never live keys without an owner.
    const revokedKeys = await revokeOwnerKeys(c.env, user.id, Date.now());
    await deleteUser(c.env.DB, user.id);
    audit(c, {
      action: 'user_deleted',
      outcome: 'success',
      status: 204,
      details: { user_id: user.id, username: user.username, keys_revoked: revokedKeys.length, key_ids: revokedKeys.slice(0, 100) },
    });
    return c.body(null, 204);
  });
