/**
 * The key record and the pure rules over it: whether a key may authenticate now, and the view
 * the admin API returns. No I/O; the clock is passed in (STYLE.md "Pure core").
 */
import type { Permission } from '../auth/rbac';
import type { Principal } from '../auth/principal';
import type { KeyEnvironment } from './format';

/** Stored status. `expired` is never stored: it is computed from `expires_at`. */
export type StoredKeyStatus = 'active' | 'rotated' | 'revoked' | 'disabled';
export type KeyStatus = StoredKeyStatus | 'expired';

/** A key as crawlgate knows it. Times are epoch milliseconds. Holds no secret (the digest is a MAC). */
export interface ApiKeyRecord {
  id: string;
  prefix: string;
  name: string;
  scopes: Permission[];
  rate_limit: string | null;
  max_concurrency: number | null;
  owner: string | null;
  status: StoredKeyStatus;
  environment: KeyEnvironment | 'seed';
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  rotated_from: string | null;
  rotated_to: string | null;
  grace_until: number | null;
  last_used_at: number | null;
}

/**
 * A fast, global "stop this key" signal in KV `REVOCATIONS` (`revoked:key:<id>`), read on every
 * request. `at` is when it takes effect: now for a revocation, the grace end for a rotation.
 */
export interface RevocationMarker {
  reason: 'revoked' | 'rotated' | 'disabled';
  at: number;
}

/**
 * A key owner's marker in KV `REVOCATIONS` (`revoked:owner:<user id>`), read with the key's own marker
 * in one bulk read (docs/api-keys.md "Owners"): while the owning user is disabled, or once they are
 * deleted, none of their keys authenticates; once the owner's roles have changed (`owner_roles`),
 * their keys act only within those roles. A stop marker carries the roles marker it replaced, so
 * re-enabling the owner brings it back.
 */
export type OwnerMarker =
  | { reason: 'owner_disabled' | 'owner_deleted'; at: number; roles?: string[] }
  | { reason: 'owner_roles'; at: number; roles: string[] };

/** Owner markers that stop the owner's keys. */
export type OwnerStop = Extract<OwnerMarker, { reason: 'owner_disabled' | 'owner_deleted' }>['reason'];

/** Why a known key is refused (audit only; the client always sees `invalid_credentials`). */
export type KeyRejection = 'revoked' | 'disabled' | 'expired' | 'rotation_grace_ended' | OwnerStop;

/** Pure: may this key authenticate at `now`? The marker wins over a possibly stale cached record. */
export function evaluateKey(
  rec: Pick<ApiKeyRecord, 'status' | 'expires_at' | 'grace_until'>,
  marker: RevocationMarker | null,
  now: number,
  owner: OwnerMarker | null = null,
): KeyRejection | null {
  if (owner && owner.reason !== 'owner_roles') return owner.reason;
  if (marker && now >= marker.at) return marker.reason === 'rotated' ? 'rotation_grace_ended' : marker.reason;
  if (rec.status === 'revoked') return 'revoked';
  if (rec.status === 'disabled') return 'disabled';
  if (rec.status === 'rotated' && (rec.grace_until === null || now >= rec.grace_until)) return 'rotation_grace_ended';
  if (rec.expires_at !== null && now >= rec.expires_at) return 'expired';
  return null;
}

/** The status a user sees: stored status, or `expired` for an active key past `expires_at`. */
export function effectiveStatus(rec: Pick<ApiKeyRecord, 'status' | 'expires_at'>, now: number): KeyStatus {
  if (rec.status === 'active' && rec.expires_at !== null && now >= rec.expires_at) return 'expired';
  return rec.status;
}

/** The principal a valid key authenticates as (API.md: keys carry permission names as scopes). */
export function principalOf(rec: ApiKeyRecord): Principal {
  return {
    kind: 'key',
    id: rec.id,
    name: rec.name,
    roles: [],
    permissions: [...rec.scopes],
    ...(rec.rate_limit ? { rateLimit: rec.rate_limit } : {}),
    ...(rec.max_concurrency ? { maxConcurrency: rec.max_concurrency } : {}),
    ...(rec.owner ? { owner: rec.owner } : {}),
    ...(rec.expires_at !== null ? { expiresAt: rec.expires_at } : {}),
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What the admin API returns for a key: never the key, never the digest. */
export function keyView(rec: ApiKeyRecord, now: number) {
  return {
    id: rec.id,
    name: rec.name,
    prefix: rec.prefix,
    scopes: rec.scopes,
    rate_limit: rec.rate_limit,
    max_concurrency: rec.max_concurrency,
    owner: rec.owner,
    status: effectiveStatus(rec, now),
    environment: rec.environment,
    // Seed keys have no creation time of their own (they live in the API_KEYS secret).
    created_at: rec.environment === 'seed' ? null : iso(rec.created_at),
    created_by: rec.created_by,
    expires_at: iso(rec.expires_at),
    revoked_at: iso(rec.revoked_at),
    rotated_from: rec.rotated_from,
    rotated_to: rec.rotated_to,
    grace_until: iso(rec.grace_until),
    last_used_at: iso(rec.last_used_at),
  };
}

export type KeyView = ReturnType<typeof keyView>;
