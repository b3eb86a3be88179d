/**
 * API-key verification: format + checksum (no I/O) → HMAC digest → seed keys (memory) or
 * KV cache → D1 → revocation marker (KV, every request) → principal.
 * Unknown, revoked, expired, disabled and rotated-out keys all fail with the same
 * `invalid_credentials`; the audit row gets the real reason (SECURITY.md "API keys").
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { AuthResult, CredentialVerifier } from '../auth/verifier';
import { GatewayError } from '../http/errors';
import { checkKeyFormat } from './format';
import { constantTimeEqual, digestKey } from './digest';
import { matchSeedKey } from './seed';
import { findKeyByDigest, touchLastUsed } from './store';
import { isolateCachedKey, readCachedKey, readMarker, rememberKey, writeCachedKey } from './cache';
import { evaluateKey, principalOf, type ApiKeyRecord } from './record';

const TOUCH_INTERVAL_MS = 60_000;

/** Per-isolate throttle for `last_used_at` writes (an optimisation only; D1 also guards it). */
const lastTouched = new Map<string, number>();

function refuse(reason: string, rec?: ApiKeyRecord): AuthResult {
  return { ok: false, code: 'invalid_credentials', reason, ...(rec ? { actor: { id: rec.id, kind: 'key' as const, name: rec.name } } : {}) };
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
 * Record lookup by digest: this isolate's memory (cache.ts ISOLATE_KEY_TTL_MS), then the KV cache, then D1
 * (which refills the KV cache in the background). The per-request KV read that remains is the
 * revocation marker, so a revoked, rotated or disabled key is refused on its next request whatever
 * this cache holds; a changed rate limit, scope or expiry reaches other isolates within the TTL.
 */
async function lookup(c: Context<AppEnv>, digest: string): Promise<ApiKeyRecord | null> {
  const now = Date.now();
  const held = isolateCachedKey(digest, now);
  if (held) return held;
  const cached = await readCachedKey(c.env.CACHE, digest);
  if (cached) rememberKey(digest, cached, now);
  if (cached !== undefined) return cached;
  const stored = await findKeyByDigest(c.env.DB, digest);
  // Defence in depth: the index matched, but compare the digests in constant time anyway.
  const record = stored && constantTimeEqual(stored.digest, digest) ? stored.record : null;
  if (record) rememberKey(digest, record, now);
  background(c, writeCachedKey(c.env.CACHE, digest, record), 'cache fill');
  return record;
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
    throw new GatewayError('service_unavailable', 'The key store is unavailable; retry shortly', { headers: { 'Retry-After': '5' }, cause: err });
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
  else if (format.kind === 'foreign') return refuse('unknown_key'); // only seed keys may have another format
  else record = await fromStore(() => lookup(c, digest));
  if (!record) return refuse('unknown_key');

  const now = Date.now();
  const id = record.id;
  const marker = await fromStore(() => readMarker(c.env.REVOCATIONS, id));
  const rejection = evaluateKey(record, marker, now);
  if (rejection) return refuse(rejection, record);

  touch(c, record, now);
  return { ok: true, principal: principalOf(record) };
};
