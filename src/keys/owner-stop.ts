/**
 * What a user's lifecycle does to the API keys they own (docs/api-keys.md "Owners"). A key acts for
 * its owner's tenant, so it must not outlive the owner's right to act:
 *  - disable the user → the owner marker `revoked:owner:<id>` stops all their keys at once (read with
 *    the key's own marker in one KV read, src/keys/cache.ts); the keys keep their own status, so
 *    re-enabling the user brings back exactly the keys that were active;
 *  - delete the user → the marker stays for good (user ids are never reused) and every key they owned
 *    is revoked in D1, so listings and the dashboard say what is true.
 * The marker is written before D1 changes and removed only after, so no step in between lets a key
 * of a disabled or deleted owner through (fail closed).
 */
import type { Env } from '../env';
import { deleteOwnerMarker, writeOwnerMarker } from './cache';
import { revokeOwnedKeys } from './store';

/** Stops the user's keys while they are disabled; call before the user row changes. */
export async function stopOwnerKeys(env: Env, userId: string, now: number): Promise<void> {
  await writeOwnerMarker(env.REVOCATIONS, userId, { reason: 'owner_disabled', at: now });
}

/** Lets the user's keys work again (each as its own status says); call after the user row is enabled. */
export async function resumeOwnerKeys(env: Env, userId: string): Promise<void> {
  await deleteOwnerMarker(env.REVOCATIONS, userId);
}

/** Stops the user's keys for good and revokes them in D1; call before the user row is deleted. Returns the revoked ids. */
export async function revokeOwnerKeys(env: Env, userId: string, now: number): Promise<string[]> {
  await writeOwnerMarker(env.REVOCATIONS, userId, { reason: 'owner_deleted', at: now });
  return revokeOwnedKeys(env.DB, userId, now);
}
