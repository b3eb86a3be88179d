/**
 * KV state for the hot path (docs/storage.md "API keys"):
 *  - `CACHE` `key:<digest>` → the key record (or a short "no such key" entry), TTL 300 s / 60 s.
 *    Deleted on revoke, rotate, disable; a stale copy elsewhere is overruled by the marker below.
 *  - `REVOCATIONS` `revoked:key:<id>` → `{reason, at}`, read on every request.
 * Neither value holds the key; the cache is keyed by the HMAC digest.
 */
import type { ApiKeyRecord, RevocationMarker } from './record';
import { revokedKeyKey } from '../auth/revocation-keys';

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
  const m = await revocations.get<RevocationMarker>(revokedKeyKey(id), 'json');
  if (!m || typeof m.at !== 'number' || !['revoked', 'rotated', 'disabled'].includes(m.reason))
    return m ? { reason: 'revoked', at: 0 } : null;
  return m;
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
