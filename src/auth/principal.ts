/** Who is calling: the result of authentication, read by authorization, rate limits and audit. */
import type { Permission, Role } from './rbac';
import { GatewayError } from '../http/errors';

export type PrincipalKind = 'user' | 'key';

export interface Principal {
  kind: PrincipalKind;
  /** Stable id: the user id (`usr_...`) or the key id (`key_...`). Never a secret. */
  id: string;
  /** Display name: username or key name. User-supplied, treat as data. */
  name: string;
  roles: Role[];
  permissions: Permission[];
  /** The key's own limit (e.g. "1000/minute"); users get role defaults from the rate limiter. */
  rateLimit?: string;
  /** Max crawl requests in flight for this principal, when set on the key. */
  maxConcurrency?: number;
  /**
   * Owner of a key, for tenancy: the owning user's immutable id (`usr_...`), never a username, so a
   * deleted user's name created again is a new tenant. A key acts for its owner's jobs and exports.
   * Migration 0009 marks keys whose owner was deleted before it ran `orphan:user:<name>`.
   */
  owner?: string;
  /**
   * When the credential's source stops working (epoch ms): a key's `expires_at`, also carried by a
   * JWT minted from that key. Absent = no expiry. What this principal grants may not outlive it.
   */
  expiresAt?: number;
  /** For JWT principals: the access token's id and expiry (seconds), for logout and revocation. */
  tokenId?: string;
  tokenExpiresAt?: number;
  /** For user JWT principals: the refresh family (session) the token belongs to, so logout can end it. */
  sessionId?: string;
  /** For JWT principals issued from an API key (`POST /token`): the key id it came from. */
  viaKeyId?: string;
  /** For OAuth principals (MCP clients): the grant (`gr_...`) the access token belongs to (src/oauth/verify.ts). */
  viaGrantId?: string;
}

/** A key owner as stored since migration 0009: a user id, or the marker of a user deleted before it. */
export const OWNER_ID = /^(usr_[A-Za-z0-9_]{1,64}|orphan:user:[A-Za-z0-9._@-]{1,64})$/;

/**
 * The tenant every ownership check compares (jobs, results, exports, usage, origin tasks, MCP
 * sessions): an immutable id, never a name. A user is its own tenant (`usr_...`); a key acts for its
 * owner's id when it has one, else it is its own tenant (`key_...`, `seed_...`). Ids are random and
 * never reused, so a re-created username starts empty (docs/storage.md, migration 0009).
 */
export function tenantOf(p: Pick<Principal, 'kind' | 'id' | 'owner'>): string {
  return p.kind === 'key' && p.owner ? p.owner : p.id;
}

/**
 * The authenticated principal of a request behind `protectedRoute`/`requirePermission`. Throws
 * 401 when called on a request nobody authenticated, which only a wiring mistake can cause.
 */
export function principalOf(c: { get(key: 'principal'): Principal | undefined }): Principal {
  const p = c.get('principal');
  if (!p) throw new GatewayError('invalid_credentials', 'Authentication required');
  return p;
}
