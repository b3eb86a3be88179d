/**
 * What a user's lifecycle does to the API keys they own (docs/api-keys.md "Owners"). A key acts for
 * its owner's tenant, so it must not outlive the owner's right to act, nor act beyond it:
 *  - disable the user → the owner marker `revoked:owner:<id>` stops all their keys at once (read with
 *    the key's own marker in one KV read, src/keys/cache.ts); the keys keep their own status, so
 *    re-enabling the user brings back exactly the keys that were active;
 *  - change the user's roles → the marker records the new roles, and from then on each of their keys
 *    acts with its scopes *within those roles* (`withinOwnerRoles`): a demoted user's keys lose what
 *    the user lost, and get it back when the roles do;
 *  - delete the user → the marker stays for good (user ids are never reused) and every key they owned
 *    is revoked in D1, so listings and the dashboard say what is true.
 * The marker is written before D1 changes and removed only after, so no step in between lets a key
 * of a disabled or deleted owner through, or a demoted owner's key act with the old roles (fail closed).
 * A stop carries the roles marker it replaces, so re-enabling restores it.
 */
import type { Env } from '../env';
import type { Config } from '../config';
import { permissionsForRoles, type Permission, type Role } from '../auth/rbac';
import { deleteOwnerMarker, readOwnerMarker, writeOwnerMarker } from './cache';
import type { OwnerMarker } from './record';
import { revokeOwnedKeys } from './store';

/** Pure: the permissions a key of this owner acts with — all of `scopes`, or those the owner's recorded roles grant. */
export function withinOwnerRoles(
  scopes: readonly Permission[],
  owner: OwnerMarker | null,
  table: Config['ROLE_PERMISSIONS'],
): Permission[] {
  if (owner?.reason !== 'owner_roles') return [...scopes];
  const held = new Set(permissionsForRoles(owner.roles as Role[], table));
  return scopes.filter((p) => held.has(p));
}

/** The roles marker a stop carries (or the stop's own carried roles), for re-enabling. */
const carriedRoles = (m: OwnerMarker | null): string[] | undefined => m?.roles;

/** Stops the user's keys while they are disabled; call before the user row changes. */
export async function stopOwnerKeys(env: Env, userId: string, now: number): Promise<void> {
  const roles = carriedRoles(await readOwnerMarker(env.REVOCATIONS, userId));
  await writeOwnerMarker(env.REVOCATIONS, userId, { reason: 'owner_disabled', at: now, ...(roles ? { roles } : {}) });
}

/** Lets the user's keys work again (each as its own status says, within recorded roles); call after the user row is enabled. */
export async function resumeOwnerKeys(env: Env, userId: string, now: number): Promise<void> {
  const roles = carriedRoles(await readOwnerMarker(env.REVOCATIONS, userId));
  if (roles) await writeOwnerMarker(env.REVOCATIONS, userId, { reason: 'owner_roles', at: now, roles });
  else await deleteOwnerMarker(env.REVOCATIONS, userId);
}

/**
 * The user's roles change to `roles`: their keys act within them from now on; call before the user
 * row changes. A stopped user's marker stays a stop and carries the new roles for their return.
 */
export async function limitOwnerKeys(env: Env, userId: string, roles: readonly string[], now: number): Promise<void> {
  const current = await readOwnerMarker(env.REVOCATIONS, userId);
  const marker: OwnerMarker =
    current && current.reason !== 'owner_roles'
      ? { reason: current.reason, at: current.at, roles: [...roles] }
      : { reason: 'owner_roles', at: now, roles: [...roles] };
  await writeOwnerMarker(env.REVOCATIONS, userId, marker);
}

/** Stops the user's keys for good and revokes them in D1; call before the user row is deleted. Returns the revoked ids. */
export async function revokeOwnerKeys(env: Env, userId: string, now: number): Promise<string[]> {
  await writeOwnerMarker(env.REVOCATIONS, userId, { reason: 'owner_deleted', at: now });
  return revokeOwnedKeys(env.DB, userId, now);
}
