/**
 * Key lifecycle: create, rotate, revoke, disable/enable. Each operation writes D1 (the source of
 * truth) and the KV state the hot path reads, in the order that fails closed: the revocation
 * marker goes to KV first, so a key is refused even if the D1 write that follows fails.
 */
import type { Env } from '../env';
import type { Permission } from '../auth/rbac';
import { displayPrefix, generateApiKey, generateKeyId, type KeyEnvironment } from './format';
import { digestKey } from './digest';
import { findKeyById, insertKey, insertKeyWithinCap, markRevoked, rotateKeyRows, setDisabled, type StoredKey } from './store';
import { deleteMarker, forgetCachedKey, readMarker, writeMarker } from './cache';
import type { ApiKeyRecord } from './record';
import { findSeedKey, isSeedKeyId, listSeedKeys } from './seed';
import type { Config } from '../config';

export interface NewKeyInput {
  name: string;
  scopes: Permission[];
  rateLimit: string | null;
  maxConcurrency: number | null;
  owner: string | null;
  expiresAt: number | null;
  environment: KeyEnvironment;
  createdBy: string | null;
}

/** The one moment the secret exists outside its owner's hands: returned once, never stored. */
export interface IssuedKey {
  key: string;
  record: ApiKeyRecord;
}

async function newStoredKey(
  pepper: string,
  input: NewKeyInput,
  now: number,
  rotatedFrom: string | null,
): Promise<IssuedKey & { stored: StoredKey }> {
  const key = generateApiKey(input.environment);
  const record: ApiKeyRecord = {
    id: generateKeyId(),
    prefix: displayPrefix(key),
    name: input.name,
    scopes: input.scopes,
    rate_limit: input.rateLimit,
    max_concurrency: input.maxConcurrency,
    owner: input.owner,
    status: 'active',
    environment: input.environment,
    created_at: now,
    created_by: input.createdBy,
    expires_at: input.expiresAt,
    revoked_at: null,
    rotated_from: rotatedFrom,
    rotated_to: null,
    grace_until: null,
    last_used_at: null,
  };
  return { key, record, stored: { record, digest: await digestKey(pepper, key) } };
}

/** Creates a key. With `maxPerOwner`, refuses (null) when the owner already holds that many live keys. */
export async function createKey(
  env: Env,
  config: Config,
  input: NewKeyInput,
  now: number,
  maxPerOwner?: number,
): Promise<IssuedKey | null> {
  const { key, record, stored } = await newStoredKey(config.API_KEY_SALT, input, now, null);
  if (maxPerOwner !== undefined && input.owner !== null) {
    if (!(await insertKeyWithinCap(env.DB, stored, maxPerOwner, now))) return null;
  } else await insertKey(env.DB, stored);
  return { key, record };
}

/** A key by id: D1 keys, or seed keys from API_KEYS (`seed_*`, with any KV revocation applied). */
export async function getKey(env: Env, config: Config, id: string): Promise<ApiKeyRecord | null> {
  if (isSeedKeyId(id)) {
    const seed = await findSeedKey(config, id);
    if (!seed) return null;
    const marker = await readMarker(env.REVOCATIONS, id);
    return marker ? { ...seed.record, status: 'revoked', revoked_at: marker.at } : seed.record;
  }
  return (await findKeyById(env.DB, id))?.record ?? null;
}

/** The API_KEYS keys with their revocation state applied (a handful; no pagination). */
export async function listConfiguredKeys(env: Env, config: Config): Promise<ApiKeyRecord[]> {
  const out: ApiKeyRecord[] = [];
  for (const rec of await listSeedKeys(config)) {
    const marker = await readMarker(env.REVOCATIONS, rec.id);
    out.push(marker ? { ...rec, status: 'revoked', revoked_at: marker.at } : rec);
  }
  return out;
}

export type RotateResult = { ok: true; issued: IssuedKey; old: ApiKeyRecord } | { ok: false; reason: 'not_found' | 'not_rotatable' };

/** Issues a successor with the same name, scopes and limits; the old key works until `graceUntil`. */
export async function rotateKey(
  env: Env,
  config: Config,
  id: string,
  graceSeconds: number,
  createdBy: string | null,
  now: number,
): Promise<RotateResult> {
  if (isSeedKeyId(id)) return (await findSeedKey(config, id)) ? { ok: false, reason: 'not_rotatable' } : { ok: false, reason: 'not_found' };
  const old = await findKeyById(env.DB, id);
  if (!old) return { ok: false, reason: 'not_found' };
  const r = old.record;
  const input: NewKeyInput = {
    name: r.name,
    scopes: r.scopes,
    rateLimit: r.rate_limit,
    maxConcurrency: r.max_concurrency,
    owner: r.owner,
    expiresAt: r.expires_at,
    environment: r.environment === 'test' ? 'test' : 'live',
    createdBy,
  };
  const { key, record, stored } = await newStoredKey(config.API_KEY_SALT, input, now, r.id);
  const graceUntil = now + graceSeconds * 1000;
  if (!(await rotateKeyRows(env.DB, r.id, stored, graceUntil, now))) return { ok: false, reason: 'not_rotatable' };
  // The marker makes the grace end hold even where a pre-rotation copy is still cached.
  await writeMarker(env.REVOCATIONS, r.id, { reason: 'rotated', at: graceUntil }, now);
  await forgetCachedKey(env.CACHE, old.digest);
  return { ok: true, issued: { key, record }, old: { ...r, status: 'rotated', rotated_to: record.id, grace_until: graceUntil } };
}

export type RevokeResult = { ok: true; record: ApiKeyRecord; alreadyRevoked: boolean } | { ok: false; reason: 'not_found' };

/** Revokes at once everywhere KV reaches (marker first), then marks D1. Idempotent. */
export async function revokeKey(env: Env, config: Config, id: string, now: number): Promise<RevokeResult> {
  if (isSeedKeyId(id)) {
    const current = await getKey(env, config, id);
    if (!current) return { ok: false, reason: 'not_found' };
    if (current.status === 'revoked') return { ok: true, record: current, alreadyRevoked: true };
    // Seed keys have no D1 row: the marker is their only revocation record, so it never expires.
    await writeMarker(env.REVOCATIONS, id, { reason: 'revoked', at: now }, now, true);
    return { ok: true, record: { ...current, status: 'revoked', revoked_at: now }, alreadyRevoked: false };
  }
  const existing = await findKeyById(env.DB, id);
  if (!existing) return { ok: false, reason: 'not_found' };
  const alreadyRevoked = existing.record.status === 'revoked';
  const at = existing.record.revoked_at ?? now;
  await writeMarker(env.REVOCATIONS, id, { reason: 'revoked', at }, now);
  const updated = await markRevoked(env.DB, id, now);
  await forgetCachedKey(env.CACHE, existing.digest);
  return { ok: true, record: updated?.record ?? existing.record, alreadyRevoked };
}

export type DisableResult = { ok: true; record: ApiKeyRecord; changed: boolean } | { ok: false; reason: 'not_found' | 'not_allowed' };

/** Disables an active key (reversible) or re-enables a disabled one. */
export async function setKeyDisabled(env: Env, config: Config, id: string, disabled: boolean, now: number): Promise<DisableResult> {
  if (isSeedKeyId(id)) return (await findSeedKey(config, id)) ? { ok: false, reason: 'not_allowed' } : { ok: false, reason: 'not_found' };
  const existing = await findKeyById(env.DB, id);
  if (!existing) return { ok: false, reason: 'not_found' };
  const target = disabled ? 'disabled' : 'active';
  if (existing.record.status === target) return { ok: true, record: existing.record, changed: false };
  // Only active ↔ disabled: revoked and rotated keys stay what they are.
  if (existing.record.status !== (disabled ? 'active' : 'disabled')) return { ok: false, reason: 'not_allowed' };
  if (disabled) await writeMarker(env.REVOCATIONS, id, { reason: 'disabled', at: now }, now);
  const updated = await setDisabled(env.DB, id, disabled);
  if (!updated) return { ok: false, reason: 'not_allowed' }; // changed under us (e.g. revoked meanwhile)
  if (!disabled) await deleteMarker(env.REVOCATIONS, id);
  await forgetCachedKey(env.CACHE, existing.digest);
  return { ok: true, record: updated.record, changed: true };
}
