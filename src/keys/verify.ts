/**
 * API-key verification: format + checksum (no I/O) → HMAC digest → seed keys (memory) or
 * KV cache → D1 → revocation markers (the key's and its owner's: one KV read, every request) → principal.
 * Unknown, revoked, expired, disabled and rotated-out keys all fail with the same
 * `invalid_credentials`; the audit row gets the real reason (SECURITY.md "API keys").
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { AuthResult, CredentialVerifier } from '../auth/verifier';
import { GatewayError } from '../http/errors';
import { checkKeyFormat } from './format';
import { digestKey } from './digest';
import { constantTimeEqual } from '../lib/constant-time';
import { matchSeedKey } from './seed';
import { findKeyByDigest, touchLastUsed } from './store';
import { readCachedKey, readMarkers, writeCachedKey } from './cache';
import { evaluateKey, principalOf, type ApiKeyRecord } from './record';
import { withinOwnerRoles } from './owner-stop';

const TOUCH_INTERVAL_MS = 60_000;
/** Per-isolate throttle for `last_used_at` writes (an optimisation only; D1 also guards it). */
const lastTouched = new Map<string, number>();

function refuse(reason: string, rec?: ApiKeyRecord): AuthResult {
  return {
    ok: false,
    code: 'invalid_credentials',
    reason,
    ...(rec ? { actor: { id: rec.id, kind: 'key' as const, name: rec.name } } : {}),
  };
}

function background(c: Context<AppEnv>, task: Promise<unknown>, what: string): void {
  const guarded = task.catch((err: unknown) => console.error(`api key ${what} failed`, String(err)));
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // no execution context: the promise still runs
  }
}

/**
 * Records seen by this isolate, by digest, for ISOLATE_KEY_CACHE_MS (docs/api-keys.md "Caches").
 * Safe to serve stale because every change that must take effect at once writes the revocation
 * marker, which is still read on every request; a stale record can only refuse longer (a key
 * re-enabled moments ago), never accept a revoked one. The only per-request KV read is the marker.
 */
export const ISOLATE_KEY_CACHE_MS = 30_000;
const ISOLATE_CACHE_MAX = 10_000;
const isolateKeys = new Map<string, { record: ApiKeyRecord | null; until: number }>();

/** Record lookup by digest: isolate cache, then KV cache, then D1 (which refills the KV cache in the background). */
async function lookup(c: Context<AppEnv>, digest: string, now: number): Promise<ApiKeyRecord | null> {
  const hit = isolateKeys.get(digest);
  if (hit && hit.until > now) return hit.record;
  let record: ApiKeyRecord | null;
  const cached = await readCachedKey(c.env.CACHE, digest);
  if (cached !== undefined) record = cached;
  else {
    const stored = await findKeyByDigest(c.env.DB, digest);
    // Defence in depth: the index matched, but compare the digests in constant time anyway.
    record = stored && constantTimeEqual(stored.digest, digest) ? stored.record : null;
    background(c, writeCachedKey(c.env.CACHE, digest, record), 'cache fill');
  }
  if (isolateKeys.size >= ISOLATE_CACHE_MAX) isolateKeys.clear();
  // Unknown digests are remembered for a shorter time: a key created moments ago should work soon.
  isolateKeys.set(digest, { record, until: now + (record ? ISOLATE_KEY_CACHE_MS : ISOLATE_KEY_CACHE_MS / 6) });
  return record;
}

/** Test hook and admin-path hook: forget what this isolate cached for a digest (or everything). */
export function forgetIsolateKey(digest?: string): void {
  if (digest === undefined) isolateKeys.clear();
  else isolateKeys.delete(digest);
}

function touch(c: Context<AppEnv>, rec: ApiKeyRecord, now: number): void {
  if (rec.environment === 'seed') return;
  const last = Math.max(lastTouched.get(rec.id) ?? 0, rec.last_used_at ?? 0);
  if (now - last < TOUCH_INTERVAL_MS) return;
  if (lastTouched.size > 10_000) lastTouched.clear();
  lastTouched.set(rec.id, now);
  background(c, touchLastUsed(c.env.DB, rec.id, now), 'last_used_at update');
}

/**
 * Storage failures fail closed but honestly: a 503 with Retry-After (no key is accepted without its
 * record and revocation check), not a 401 that would tell a client its good key is bad.
 */
async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    console.error('api key store unavailable', String(err));
    throw new GatewayError('service_unavailable', 'The key store is unavailable; retry shortly', {
      headers: { 'Retry-After': '5' },
      cause: err,
    });
  }
}

/** The `CredentialVerifier` for API keys (contract in src/auth/verifier.ts). */
export const verifyApiKey: CredentialVerifier = async (c, credential) => {
  const format = checkKeyFormat(credential);
  // A crawlgate-looking key with a bad shape or checksum is refused before any storage read.
  if (format.kind === 'invalid') return refuse(format.reason);

  const config = c.get('config');
  const digest = await digestKey(config.API_KEY_SALT, credential);
  const seed = await matchSeedKey(config, digest);
  let record: ApiKeyRecord | null;
  if (seed) record = seed.record;
  else if (format.kind === 'foreign')
    return refuse('unknown_key'); // only seed keys may have another format
  else record = null;
  const now = Date.now();
  if (!seed) record = await fromStore(() => lookup(c, digest, now));
  if (!record) return refuse('unknown_key');

  const id = record.id;
  const owner = record.owner;
  const markers = await fromStore(() => readMarkers(c.env.REVOCATIONS, id, owner));
  const rejection = evaluateKey(record, markers.key, now, markers.owner);
  if (rejection) return refuse(rejection, record);

  touch(c, record, now);
  const principal = principalOf(record);
  // A key acts within its owner's current roles once they have changed (docs/api-keys.md "Owners").
  if (markers.owner) principal.permissions = withinOwnerRoles(principal.permissions, markers.owner, config.ROLE_PERMISSIONS);
  return { ok: true, principal };
};
