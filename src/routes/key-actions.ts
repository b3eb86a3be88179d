/**
 * The handlers behind both key entrances (`/admin/keys` and self-service `/keys`): the same
 * service calls, views and audit rows, with the caller's `KeyAccess` deciding which keys it may
 * touch and what it may grant (src/keys/access.ts). The secret key appears in exactly two answers
 * (create, rotate), with `Cache-Control: no-store`; never in audit rows.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { keyView, type ApiKeyRecord } from '../keys/record';
import { createKey, listConfiguredKeys, revokeKey, rotateKey, setKeyDisabled } from '../keys/service';
import { listKeys } from '../keys/store';
import { decodeCursor, encodeCursor } from '../keys/cursor';
import {
  assertRegrant,
  keyLimitReached,
  keyNotFound,
  listOwner,
  newKeyFor,
  visibleKey,
  type CreateKeyFields,
  type KeyAccess,
} from '../keys/access';
import type { KeyStatus } from '../keys/record';
import { ownerNames, resolveOwner } from '../users/owner';
import { budgetProblem, readBudget, readBudgets, setBudget } from '../metering/budgets';
import type { BudgetConfig, BudgetView } from '../metering/budget-ledger';
import { principalLimits } from '../ratelimit/policy';

const keyRef = (r: ApiKeyRecord) => ({ key_id: r.id, name: r.name });

function issuedResponse(c: Context<AppEnv>, access: KeyAccess, id: string): void {
  // The key is in this body: no cache, proxy or browser may keep it (RFC 9111 §5.2.2.5).
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  c.header('Location', `${access.base}/${id}`);
}

/** A key's owner label (the username) next to the stored id; null for none or a deleted user. */
async function withOwnerNames<T extends { owner: string | null }>(
  c: Context<AppEnv>,
  views: T[],
): Promise<(T & { owner_name: string | null })[]> {
  const names = await ownerNames(
    c.env.DB,
    views.map((v) => v.owner),
  );
  return views.map((v) => ({ ...v, owner_name: v.owner ? (names.get(v.owner) ?? null) : null }));
}

async function withOwnerName<T extends { owner: string | null }>(c: Context<AppEnv>, view: T): Promise<T & { owner_name: string | null }> {
  const names = await ownerNames(c.env.DB, [view.owner]);
  return { ...view, owner_name: view.owner ? (names.get(view.owner) ?? null) : null };
}

/**
 * `owner` on create names a user by username or `usr_...` id and is stored as the immutable id
 * (docs/storage.md "Tenants"); an unknown user → 422 before anything is written.
 */
async function ownerById(c: Context<AppEnv>, body: CreateKeyFields): Promise<CreateKeyFields> {
  if (body.owner === undefined) return body;
  const owner = await resolveOwner(c.env.DB, body.owner);
  if (!owner)
    throw new GatewayError('validation_failed', 'Invalid request: owner: no such user', {
      extras: { errors: [{ path: 'owner', message: 'no such user' }] },
    });
  return { ...body, owner: owner.id };
}

/**
 * Budgets on keys (docs/metering.md): a caller without key-admin authority whose own credential has
 * a budget may only give its keys budgets within it (403 otherwise, audited like any grant refusal).
 */
async function assertBudgetGrant(
  c: Context<AppEnv>,
  access: KeyAccess,
  requested: BudgetConfig | null | undefined,
  what: string,
): Promise<void> {
  if (access.all) return;
  const config = c.get('config');
  const own = principalLimits(access.principal, config.DEFAULT_RATE_LIMIT, config.ROLE_RATE_LIMITS);
  const problem = budgetProblem(await readBudget(c.env, own.dimension, own.subject), requested);
  if (!problem) return;
  audit(c, { action: 'permission_denied', outcome: 'denied', reason: 'delegation:budget', status: 403, details: { attempted: what } });
  throw new GatewayError('forbidden', `You can only grant what you hold (budget: ${problem})`, {
    extras: { errors: [{ path: 'budget', message: problem }] },
  });
}

/** Key views with their budgets (one object call per key that has one). */
async function withBudgets<T extends { id: string }>(c: Context<AppEnv>, views: T[]): Promise<(T & { budget: BudgetView | null })[]> {
  const budgets = await readBudgets(
    c.env,
    'key',
    views.map((v) => v.id),
  );
  return views.map((v) => ({ ...v, budget: budgets.get(v.id) ?? null }));
}

export async function createAction(c: Context<AppEnv>, access: KeyAccess, fields: CreateKeyFields & { budget?: BudgetConfig }) {
  const now = Date.now();
  const { budget, ...rest } = fields;
  const body = await ownerById(c, rest);
  const { input, cap } = newKeyFor(c, access, body, now);
  await assertBudgetGrant(c, access, budget, 'key_create');
  const issued = await createKey(c.env, c.get('config'), input, now, cap);
  if (!issued) throw keyLimitReached(cap as number);
  const budgetView = budget ? await setBudget(c.env, 'key', issued.record.id, budget) : null;
  audit(c, {
    action: 'key_created',
    outcome: 'success',
    status: 201,
    details: {
      ...keyRef(issued.record),
      scopes: issued.record.scopes,
      expires_at: issued.record.expires_at,
      owner: issued.record.owner,
      ...(budget ? { budget } : {}),
    },
  });
  issuedResponse(c, access, issued.record.id);
  return { ...(await withOwnerName(c, keyView(issued.record, now))), budget: budgetView, key: issued.key };
}

export interface ListFields {
  source?: 'stored' | 'config';
  status?: KeyStatus;
  owner?: string;
  cursor?: string;
  limit?: number;
}

export async function listAction(c: Context<AppEnv>, access: KeyAccess, q: ListFields) {
  const now = Date.now();
  const forced = listOwner(access);
  // An owner filter may name the user by username or id; tenancy is the id.
  if (q.owner !== undefined) q = { ...q, owner: (await resolveOwner(c.env.DB, q.owner))?.id ?? q.owner };
  // A non-admin lists its own keys only (seed keys have no owner); an owner filter naming another is empty.
  if (forced === null || (forced !== undefined && q.owner !== undefined && q.owner !== forced)) return { keys: [], next_cursor: null };
  if (q.source === 'config') {
    if (forced !== undefined) return { keys: [], next_cursor: null };
    const keys = (await listConfiguredKeys(c.env, c.get('config'))).filter((r) => !q.status || keyView(r, now).status === q.status);
    return {
      keys: await withBudgets(
        c,
        keys.map((r) => keyView(r, now)),
      ),
      next_cursor: null,
    };
  }
  const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
  if (after === null) {
    throw new GatewayError('validation_failed', 'Invalid request: cursor: is not a cursor this API returned', {
      extras: { errors: [{ path: 'cursor', message: 'is not a cursor this API returned' }] },
    });
  }
  const limit = q.limit ?? 50;
  const rows = await listKeys(c.env.DB, { status: q.status, owner: forced ?? q.owner, after, limit, now });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next = rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
  return {
    keys: await withBudgets(
      c,
      await withOwnerNames(
        c,
        page.map((r) => keyView(r, now)),
      ),
    ),
    next_cursor: next,
  };
}

export async function getAction(c: Context<AppEnv>, access: KeyAccess, id: string) {
  const [view] = await withBudgets(c, [await withOwnerName(c, keyView(await visibleKey(c, access, id), Date.now()))]);
  return view as NonNullable<typeof view>;
}

/** PATCH: `disabled` and/or `budget` (a budget alone changes nothing else). */
export async function updateAction(
  c: Context<AppEnv>,
  access: KeyAccess,
  id: string,
  change: boolean | { disabled?: boolean; budget?: BudgetConfig | null },
) {
  const { disabled, budget } = typeof change === 'boolean' ? { disabled: change, budget: undefined } : change;
  if (disabled === undefined) {
    const rec = await visibleKey(c, access, id);
    if (budget === undefined)
      return (await withBudgets(c, [keyView(rec, Date.now())]))[0] as ReturnType<typeof keyView> & { budget: BudgetView | null };
    await assertBudgetGrant(c, access, budget, 'key_budget');
    const view = await setBudget(c.env, 'key', id, budget);
    audit(c, { action: 'key_changed', outcome: 'success', reason: 'budget', status: 200, details: { ...keyRef(rec), budget } });
    return { ...keyView(rec, Date.now()), budget: view };
  }
  if (budget !== undefined) await updateAction(c, access, id, { budget });
  const rec = await visibleKey(c, access, id);
  if (!disabled) assertRegrant(c, access, rec, 'key_enable');
  const result = await setKeyDisabled(c.env, c.get('config'), id, disabled, Date.now());
  if (!result.ok) {
    if (result.reason === 'not_found') throw keyNotFound(id);
    throw new GatewayError('conflict', disabled ? 'Only an active key can be disabled' : 'Only a disabled key can be re-enabled');
  }
  if (result.changed)
    audit(c, {
      action: 'key_changed',
      outcome: 'success',
      reason: disabled ? 'disabled' : 'enabled',
      status: 200,
      details: keyRef(result.record),
    });
  return (await withBudgets(c, [keyView(result.record, Date.now())]))[0] as ReturnType<typeof keyView> & { budget: BudgetView | null };
}

export async function rotateAction(c: Context<AppEnv>, access: KeyAccess, id: string, graceSeconds: number) {
  const rec = await visibleKey(c, access, id);
  assertRegrant(c, access, rec, 'key_rotate');
  const now = Date.now();
  const result = await rotateKey(c.env, c.get('config'), id, graceSeconds, access.principal.id, now);
  if (!result.ok) {
    if (result.reason === 'not_found') throw keyNotFound(id);
    throw new GatewayError(
      'conflict',
      id.startsWith('seed_')
        ? 'Keys from API_KEYS are rotated by changing that secret; revoke this one with DELETE'
        : 'Only an active, unexpired key can be rotated',
    );
  }
  const { issued, old } = result;
  audit(c, {
    action: 'key_rotated',
    outcome: 'success',
    status: 201,
    details: { ...keyRef(old), new_key_id: issued.record.id, grace_seconds: graceSeconds },
  });
  issuedResponse(c, access, issued.record.id);
  const oldView = keyView(old, now);
  return {
    ...keyView(issued.record, now),
    key: issued.key,
    old_key: { id: old.id, status: oldView.status, grace_until: oldView.grace_until },
  };
}

export async function revokeAction(c: Context<AppEnv>, access: KeyAccess, id: string) {
  await visibleKey(c, access, id);
  const result = await revokeKey(c.env, c.get('config'), id, Date.now());
  if (!result.ok) throw keyNotFound(id);
  audit(c, {
    action: 'key_revoked',
    outcome: 'success',
    status: 200,
    ...(result.alreadyRevoked ? { reason: 'already_revoked' } : {}),
    details: keyRef(result.record),
  });
  return keyView(result.record, Date.now());
}
