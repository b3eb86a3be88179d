/**
 * KV state for the hot path (docs/storage.md "API keys"):
 *  - `CACHE` `key:<digest>` → the key record (or a short "no such key" entry), TTL 300 s / 60 s.
 *    Deleted on revoke, rotate, disable; a stale copy elsewhere is overruled by the marker below.
 *  - `REVOCATIONS` `revoked:key:<id>` → `{reason, at}`, read on every request, and for a key with
 *    an owner `revoked:owner:<user id>` → `{reason, at, roles?}` in the same bulk read.
 * Neither value holds the key; the cache is keyed by the HMAC digest.
 */
import type { ApiKeyRecord, OwnerMarker, RevocationMarker } from './record';
import { revokedKeyKey, revokedOwnerKey } from '../auth/revocation-keys';

/** How long a record may be served from KV before D1 is asked again. */
export const KEY_CACHE_TTL_SECONDS = 300;
/** Unknown digests are remembered briefly so guessed keys with a valid checksum do not hammer D1. */
export const NEGATIVE_CACHE_TTL_SECONDS = 60;
/** A marker for a D1-backed key outlives any cached copy by far; after that D1's status decides. */
export const MARKER_TTL_AFTER_EFFECT_SECONDS = 7 * 86_400;

type CacheEntry = { v: 1; record: ApiKeyRecord } | { v: 1; none: true };

const cacheKey = (digest: string) => `key:${digest}`;

/** `undefined` = not cached; `null` = cached as unknown. */
export async function readCachedKey(cache: KVNamespace, digest: string): Promise<ApiKeyRecord | null | undefined> {
  const entry = await cache.get<CacheEntry>(cacheKey(digest), 'json');
  if (!entry || entry.v !== 1) return undefined;
  return 'record' in entry ? entry.record : null;
}

export async function writeCachedKey(cache: KVNamespace, digest: string, record: ApiKeyRecord | null): Promise<void> {
  const entry: CacheEntry = record ? { v: 1, record } : { v: 1, none: true };
  await cache.put(cacheKey(digest), JSON.stringify(entry), {
    expirationTtl: record ? KEY_CACHE_TTL_SECONDS : NEGATIVE_CACHE_TTL_SECONDS,
  });
}

export async function forgetCachedKey(cache: KVNamespace, digest: string): Promise<void> {
  await cache.delete(cacheKey(digest));
}

export async function readMarker(revocations: KVNamespace, id: string): Promise<RevocationMarker | null> {
  return parseKeyMarker(await revocations.get<RevocationMarker>(revokedKeyKey(id), 'json'));
}

/** A marker we cannot read is taken as a revocation (fail closed). */
function parseKeyMarker(m: RevocationMarker | null | undefined): RevocationMarker | null {
  if (!m || typeof m.at !== 'number' || !['revoked', 'rotated', 'disabled'].includes(m.reason))
    return m ? { reason: 'revoked', at: 0 } : null;
  return m;
}

/** A stored value as JSON; one that does not parse stays a (non-null) marker the parsers refuse on. */
function parseJson<T>(text: string | null | undefined): T | null {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return { unreadable: true } as T;
  }
}

/** Roles as a marker may list them: a short list of role names. */
const isRoleList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length <= 64 && v.every((r) => typeof r === 'string' && r.length <= 64);

/**
 * An owner's marker as stored (JSON text, or null when there is none). A value we cannot read counts
 * as a deletion (fail closed): it stops the owner's keys rather than letting them act unbounded.
 */
export function parseOwnerMarker(text: string | null | undefined): OwnerMarker | null {
  if (text === null || text === undefined) return null;
  const m = parseJson<Partial<OwnerMarker> | null>(text);
  if (typeof m === 'object' && m !== null && typeof m.at === 'number') {
    if ((m.reason === 'owner_disabled' || m.reason === 'owner_deleted') && (m.roles === undefined || isRoleList(m.roles)))
      return { reason: m.reason, at: m.at, ...(m.roles ? { roles: m.roles } : {}) };
    if (m.reason === 'owner_roles' && isRoleList(m.roles)) return { reason: 'owner_roles', at: m.at, roles: m.roles };
  }
  return { reason: 'owner_deleted', at: 0 };
}

/** The user's owner marker on its own (admin changes read it before writing the next one). */
export async function readOwnerMarker(revocations: KVNamespace, userId: string): Promise<OwnerMarker | null> {
  return parseOwnerMarker(await revocations.get(revokedOwnerKey(userId), 'text'));
}

/**
 * The key's marker and, for a key with an owner, the owner's marker: one KV read either way (a bulk
 * `get` of both keys when there is an owner), so the hot path keeps its single KV round trip.
 */
export async function readMarkers(
  revocations: KVNamespace,
  id: string,
  owner: string | null | undefined,
): Promise<{ key: RevocationMarker | null; owner: OwnerMarker | null }> {
  if (!owner) return { key: await readMarker(revocations, id), owner: null };
  const keyKey = revokedKeyKey(id);
  const ownerKey = revokedOwnerKey(owner);
  const both = await revocations.get([keyKey, ownerKey], 'text');
  return {
    key: parseKeyMarker(parseJson(both.get(keyKey))),
    owner: parseOwnerMarker(both.get(ownerKey)),
  };
}

/**
 * Writes a user's owner marker: a stop (disabled: until re-enabled; deleted: for good — user ids are
 * never reused) or the roles their keys act within. No expiry: the marker is the only record of either.
 */
export async function writeOwnerMarker(revocations: KVNamespace, userId: string, marker: OwnerMarker): Promise<void> {
  await revocations.put(revokedOwnerKey(userId), JSON.stringify(marker));
}

export async function deleteOwnerMarker(revocations: KVNamespace, userId: string): Promise<void> {
  await revocations.delete(revokedOwnerKey(userId));
}

/**
 * Writes the marker. `permanent` for keys with no D1 row (API_KEYS seed keys): the marker is then
 * the only record of the revocation. KV's minimum expiration TTL is 60 s.
 */
export async function writeMarker(
  revocations: KVNamespace,
  id: string,
  marker: RevocationMarker,
  now: number,
  permanent = false,
): Promise<void> {
  const options = permanent ? {} : { expiration: Math.ceil(Math.max(marker.at, now) / 1000) + MARKER_TTL_AFTER_EFFECT_SECONDS };
  await revocations.put(revokedKeyKey(id), JSON.stringify(marker), options);
}

export async function deleteMarker(revocations: KVNamespace, id: string): Promise<void> {
  await revocations.delete(revokedKeyKey(id));
}
