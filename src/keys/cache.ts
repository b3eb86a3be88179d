/**
 * KV state for the hot path (docs/storage.md "API keys"):
 *  - `CACHE` `key:<digest>` → the key record (or a short "no such key" entry), TTL 300 s / 60 s.
 *    Deleted on revoke, rotate, disable; a stale copy elsewhere is overruled by the marker below.
 *  - `REVOCATIONS` `revoked:key:<id>` → `{reason, at}`, read on every request.
 * Neither value holds the key; the cache is keyed by the HMAC digest.
 * On top, each isolate keeps found records in memory for ISOLATE_KEY_TTL_MS, so the hot path's only
 * KV read is the revocation marker (docs/performance.md).
 */
import type { ApiKeyRecord, RevocationMarker } from './record';

/** How long a record may be served from KV before D1 is asked again. */
export const KEY_CACHE_TTL_SECONDS = 300;
/** Unknown digests are remembered briefly so guessed keys with a valid checksum do not hammer D1. */
export const NEGATIVE_CACHE_TTL_SECONDS = 60;
/** A marker for a D1-backed key outlives any cached copy by far; after that D1's status decides. */
export const MARKER_TTL_AFTER_EFFECT_SECONDS = 7 * 86_400;

type CacheEntry = { v: 1; record: ApiKeyRecord } | { v: 1; none: true };

const cacheKey = (digest: string) => `key:${digest}`;
const markerKey = (id: string) => `revoked:key:${id}`;

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

/**
 * Also drops this isolate's copy; other isolates keep theirs for at most ISOLATE_KEY_TTL_MS, which
 * is safe for revoke/rotate/disable (the marker, read on every request, overrules it) and delays
 * only re-enabling a disabled key and other record changes by that much.
 */
export async function forgetCachedKey(cache: KVNamespace, digest: string): Promise<void> {
  isolateKeys.delete(digest);
  await cache.delete(cacheKey(digest));
}

/** How long an isolate serves a generated key's record from memory before asking KV again. */
export const ISOLATE_KEY_TTL_MS = 30_000;
const ISOLATE_KEYS_MAX = 10_000;
/** digest → record; found keys only (an unknown digest always reaches KV's short negative entry). */
const isolateKeys = new Map<string, { record: ApiKeyRecord; until: number }>();

/** This isolate's copy of a record, if fresh. */
export function isolateCachedKey(digest: string, now: number): ApiKeyRecord | undefined {
  const held = isolateKeys.get(digest);
  if (held && held.until > now) return held.record;
  if (held) isolateKeys.delete(digest);
  return undefined;
}

export function rememberKey(digest: string, record: ApiKeyRecord, now: number): void {
  if (isolateKeys.size >= ISOLATE_KEYS_MAX) isolateKeys.clear();
  isolateKeys.set(digest, { record, until: now + ISOLATE_KEY_TTL_MS });
}

export async function readMarker(revocations: KVNamespace, id: string): Promise<RevocationMarker | null> {
  const m = await revocations.get<RevocationMarker>(markerKey(id), 'json');
  if (!m || typeof m.at !== 'number' || !['revoked', 'rotated', 'disabled'].includes(m.reason)) return m ? { reason: 'revoked', at: 0 } : null;
  return m;
}

/**
 * Writes the marker. `permanent` for keys with no D1 row (API_KEYS seed keys): the marker is then
 * the only record of the revocation. KV's minimum expiration TTL is 60 s.
 */
export async function writeMarker(revocations: KVNamespace, id: string, marker: RevocationMarker, now: number, permanent = false): Promise<void> {
  const options = permanent
    ? {}
    : { expiration: Math.ceil(Math.max(marker.at, now) / 1000) + MARKER_TTL_AFTER_EFFECT_SECONDS };
  await revocations.put(markerKey(id), JSON.stringify(marker), options);
}

export async function deleteMarker(revocations: KVNamespace, id: string): Promise<void> {
  await revocations.delete(markerKey(id));
}
