/**
 * Who may do what to which key, as HTTP answers (the pure rules are in ./ownership.ts and
 * ./delegation.ts). Two entrances share these rules:
 *  - `/admin/keys`: a principal with key-admin authority sees and manages every key; any other
 *    holder of `keys:read`/`keys:manage` is bound to its own keys and to the subset rule;
 *  - `/keys` (self-service, `keys:self`): always the caller's own keys, admins included.
 * A key the caller does not own is answered exactly like a key that does not exist (404), so ids
 * of other tenants' keys cannot be probed. Refusals write nothing but their audit row.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { Principal } from '../auth/principal';
import { normalizeScopes } from '../auth/rbac';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { parseRateLimit } from '../ratelimit/limit-spec';
import { ownerFor, owns } from './ownership';
import { boundNewKey, exceeds, hasKeyAdminAuthority, holderGrant, recordGrant, type GrantProblem } from './delegation';
import { getKey, type NewKeyInput } from './service';
import type { ApiKeyRecord } from './record';
import type { KeyEnvironment } from './format';

export interface KeyAccess {
  principal: Principal;
  /** Key-admin authority on this entrance: every key, no subset rule, no per-owner cap. */
  all: boolean;
  /** Where this entrance's keys live (`/admin/keys` or `/keys`), for `Location`. */
  base: '/admin/keys' | '/keys';
}

/** The caller's access on an entrance. */
export function keyAccess(c: Context<AppEnv>, base: KeyAccess['base']): KeyAccess {
  const principal = c.get('principal');
  if (!principal) throw new GatewayError('invalid_credentials', 'Authentication required');
  return { principal, all: base === '/admin/keys' && hasKeyAdminAuthority(principal), base };
}

export function keyNotFound(id: string): GatewayError {
  return new GatewayError('not_found', `No API key with id "${id.slice(0, 100)}"`);
}

/** The key `id` if the caller may see it, else 404 (missing and not-owned look the same). */
export async function visibleKey(c: Context<AppEnv>, access: KeyAccess, id: string): Promise<ApiKeyRecord> {
  const rec = await getKey(c.env, c.get('config'), id);
  if (!rec || (!access.all && !owns(access.principal, rec))) throw keyNotFound(id);
  return rec;
}

/** The owner filter for listing: undefined = every key (admins); null = the caller can own none. */
export function listOwner(access: KeyAccess): string | null | undefined {
  return access.all ? undefined : ownerFor(access.principal);
}

/** 403 for a grant beyond the caller's own; the audit row names the fields, never values that matter. */
function refuseGrant(c: Context<AppEnv>, problems: GrantProblem[], what: string): never {
  audit(c, {
    action: 'permission_denied',
    outcome: 'denied',
    reason: `delegation:${problems.map((p) => p.path).join(',')}`,
    status: 403,
    details: { attempted: what },
  });
  const scopeProblem = problems.some((p) => p.path === 'scopes');
  const summary = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw new GatewayError(scopeProblem ? 'insufficient_scope' : 'forbidden', `You can only grant what you hold (${summary})`, {
    extras: { errors: problems },
  });
}

function refuseOwner(c: Context<AppEnv>, detail: string): never {
  audit(c, {
    action: 'permission_denied',
    outcome: 'denied',
    reason: 'delegation:owner',
    status: 403,
    details: { attempted: 'key_create' },
  });
  throw new GatewayError('forbidden', detail);
}

export interface CreateKeyFields {
  name: string;
  scopes: string[];
  rate_limit?: string;
  max_concurrency?: number;
  expires_at?: string;
  owner?: string;
  environment?: KeyEnvironment;
}

/** The new key's input and, for non-admins, the per-owner cap; throws 403/422 for what may not be granted. */
export function newKeyFor(c: Context<AppEnv>, access: KeyAccess, body: CreateKeyFields, now: number): { input: NewKeyInput; cap?: number } {
  const expiresAt = body.expires_at ? Date.parse(body.expires_at) : null;
  if (expiresAt !== null && expiresAt <= now) {
    throw new GatewayError('validation_failed', 'Invalid request: expires_at: must be in the future', {
      extras: { errors: [{ path: 'expires_at', message: 'must be in the future' }] },
    });
  }
  const p = access.principal;
  const requested = {
    scopes: normalizeScopes(body.scopes) ?? [], // the schema already refused unknown scopes
    rateLimit: body.rate_limit ? (parseRateLimit(body.rate_limit)?.text ?? null) : null,
    maxConcurrency: body.max_concurrency ?? null,
    expiresAt,
  };
  const base = { name: body.name, environment: body.environment ?? 'live', createdBy: p.id } as const;
  if (access.all) return { input: { ...base, ...requested, owner: body.owner ?? null } };

  const owner = ownerFor(p);
  if (owner === null) refuseOwner(c, 'A key without an owner cannot create keys (it could not manage them); use a key that has an owner');
  if (body.owner !== undefined && body.owner !== owner) refuseOwner(c, 'You can only create keys you own: leave "owner" out');
  const bound = boundNewKey(requested, holderGrant(p, c.get('config')));
  if (!bound.ok) refuseGrant(c, bound.problems, 'key_create');
  return { input: { ...base, ...bound.key, owner }, cap: c.get('config').MAX_KEYS_PER_USER };
}

/**
 * Rotating or re-enabling hands out a working key again: a non-admin may do it only for a key whose
 * grant is within its own (else rotation would mint a copy of a stronger key it happens to own).
 */
export function assertRegrant(c: Context<AppEnv>, access: KeyAccess, rec: ApiKeyRecord, what: string): void {
  if (access.all) return;
  const problems = exceeds(recordGrant(rec, c.get('config')), holderGrant(access.principal, c.get('config')));
  if (problems.length) refuseGrant(c, problems, what);
}

/** 409 when the owner already holds MAX_KEYS_PER_USER live keys. */
export function keyLimitReached(max: number): GatewayError {
  return new GatewayError('conflict', `You already hold ${max} live keys (MAX_KEYS_PER_USER); revoke one first`, {
    extras: { limit: max },
  });
}
