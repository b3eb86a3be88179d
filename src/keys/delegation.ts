/**
 * Delegation without escalation (SECURITY.md "No privilege escalation by delegation"): what a
 * non-admin grants — on a new key, or by rotating or re-enabling an existing one — is a subset of
 * what it holds: scopes ⊆ its permissions, a rate no faster and a burst no larger than its own, no
 * more crawl requests in flight, and no later expiry. Pure: limits and the clock are passed in.
 */
import type { Principal } from '../auth/principal';
import type { Permission, Role } from '../auth/rbac';
import { principalLimits, type RoleLimit } from '../ratelimit/policy';
import { capacityOf, parseRateLimit, type RateLimitSpec } from '../ratelimit/limit-spec';
import { isSeedKeyId } from './seed';
import { principalOf, type ApiKeyRecord } from './record';

/** The config a delegation check needs (a subset of `Config`). */
export interface LimitDefaults {
  DEFAULT_RATE_LIMIT: RateLimitSpec;
  ROLE_RATE_LIMITS: Record<Role, RoleLimit>;
}

/**
 * Key-admin authority: not bound by the subset rule, sees and manages every key (on /admin/keys).
 *  - a user with the `admin` role;
 *  - a key from `API_KEYS`: set by whoever holds the deployment's secrets (the bootstrap admin key);
 *  - a holder of `users:manage`: it can create an admin account and sign in as it, so binding it
 *    here would protect nothing.
 */
export function hasKeyAdminAuthority(p: Principal): boolean {
  if (p.kind === 'user') return p.roles.includes('admin') || p.permissions.includes('users:manage');
  return isSeedKeyId(p.id) || p.permissions.includes('users:manage');
}

/** What a grant carries (a new key's fields, or an existing key's). */
export interface Grant {
  scopes: Permission[];
  rateLimit: RateLimitSpec;
  maxConcurrency: number;
  /** Epoch ms; null = never. */
  expiresAt: number | null;
}

export interface GrantProblem {
  path: 'scopes' | 'rate_limit' | 'max_concurrency' | 'expires_at';
  message: string;
}

/** The holder's own effective grant: its permissions, the limits the rate limiter applies to it, its expiry. */
export function holderGrant(p: Principal, d: LimitDefaults): Grant {
  const limits = principalLimits(p, d.DEFAULT_RATE_LIMIT, d.ROLE_RATE_LIMITS);
  return { scopes: p.permissions, rateLimit: limits.rate, maxConcurrency: limits.concurrency, expiresAt: p.expiresAt ?? null };
}

/** An existing key's effective grant (null limits mean the defaults, which may be looser than the holder's). */
export function recordGrant(rec: ApiKeyRecord, d: LimitDefaults): Grant {
  return holderGrant(principalOf(rec), d);
}

/** True when `a` admits more than `b`: a faster sustained rate or a larger burst. */
function looserRate(a: RateLimitSpec, b: RateLimitSpec): boolean {
  // a.limit / a.window > b.limit / b.window, in integers (no float rounding at the boundary).
  return a.limit * b.windowMs > b.limit * a.windowMs || capacityOf(a) > capacityOf(b);
}

/** Every way `grant` exceeds `holder` (empty = within it). */
export function exceeds(grant: Grant, holder: Grant): GrantProblem[] {
  const out: GrantProblem[] = [];
  const missing = grant.scopes.filter((s) => !holder.scopes.includes(s));
  if (missing.length) out.push({ path: 'scopes', message: `you do not hold ${missing.map((s) => `"${s}"`).join(', ')}` });
  if (looserRate(grant.rateLimit, holder.rateLimit))
    out.push({ path: 'rate_limit', message: `must be no looser than your own ${holder.rateLimit.text}` });
  if (grant.maxConcurrency > holder.maxConcurrency)
    out.push({ path: 'max_concurrency', message: `must be at most your own ${holder.maxConcurrency}` });
  if (holder.expiresAt !== null && (grant.expiresAt === null || grant.expiresAt > holder.expiresAt)) {
    out.push({ path: 'expires_at', message: `must be no later than your own expiry ${new Date(holder.expiresAt).toISOString()}` });
  }
  return out;
}

/** A requested new key: omitted limits are null. */
export interface RequestedKey {
  scopes: Permission[];
  rateLimit: string | null;
  maxConcurrency: number | null;
  expiresAt: number | null;
}

export type BoundResult = { ok: true; key: RequestedKey } | { ok: false; problems: GrantProblem[] };

/**
 * Bounds a new key by its non-admin creator: omitted limits take the creator's own (so a key never
 * falls back to a default looser than its creator), explicit ones must be within them.
 */
export function boundNewKey(req: RequestedKey, holder: Grant): BoundResult {
  const key: RequestedKey = {
    scopes: req.scopes,
    rateLimit: req.rateLimit ?? holder.rateLimit.text,
    maxConcurrency: req.maxConcurrency ?? holder.maxConcurrency,
    expiresAt: req.expiresAt ?? holder.expiresAt,
  };
  const rate = parseRateLimit(key.rateLimit as string);
  if (!rate) return { ok: false, problems: [{ path: 'rate_limit', message: 'is not a rate limit' }] };
  const problems = exceeds(
    { scopes: key.scopes, rateLimit: rate, maxConcurrency: key.maxConcurrency as number, expiresAt: key.expiresAt },
    holder,
  );
  return problems.length ? { ok: false, problems } : { ok: true, key };
}
