/** Who is calling: the result of authentication, read by authorization, rate limits and audit. */
import type { Permission, Role } from './rbac';

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
  /** Owner of a key (a username), for tenancy: a key acts for its owner's jobs. */
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
}

/** The tenant id used for ownership checks: a key acts for its owner when it has one. */
export function tenantOf(p: Principal): string {
  return p.kind === 'key' && p.owner ? `user:${p.owner}` : p.kind === 'user' ? `user:${p.name}` : `key:${p.id}`;
}
