/**
 * A running job acts for the principal that created it, so it re-checks that principal before each
 * batch (and on resume) instead of crawling on with what was captured at creation (issue 17
 * "Credentials bound what they mint"). The reads are the hot path's own, and cheap: a user's D1 row
 * by primary key; for a key, its KV revocation marker (written first on revoke/disable/rotate) and
 * its D1 row by primary key (status, expiry, rotation), plus its owner's user row.
 *
 *   user deleted, key revoked / expired / rotated out with no live successor, owner deleted → principal_revoked
 *   user disabled, key disabled, owner disabled                                           → principal_disabled
 *   user whose roles no longer grant a permission the job's request used                  → principal_disabled
 *   key whose owner's changed roles no longer grant one (docs/api-keys.md "Owners")         → principal_disabled
 *
 * A rotated key's job follows the rotation chain: rotating a key is routine hygiene, and its
 * successor is the same credential (same owner, scopes, limits), so the job runs on while the
 * newest key in the chain is live.
 */
import type { Env } from '../env';
import type { Config } from '../config';
import { getUserById } from '../users/store';
import { permissionsForRoles, type Permission } from '../auth/rbac';
import { getKey } from '../keys/service';
import { readMarker, readOwnerMarker } from '../keys/cache';
import { withinOwnerRoles } from '../keys/owner-stop';
import { evaluateKey, type ApiKeyRecord, type KeyRejection } from '../keys/record';
import type { JobPrincipal, PrincipalReason } from './types';

export type PrincipalVerdict = { ok: true } | { ok: false; reason: PrincipalReason; detail: string };

/** Rotations followed before giving up (a chain this long within one job's life is not routine). */
const MAX_ROTATION_HOPS = 5;

const OK: PrincipalVerdict = { ok: true };
const revoked = (detail: string): PrincipalVerdict => ({ ok: false, reason: 'principal_revoked', detail });
const disabled = (detail: string): PrincipalVerdict => ({ ok: false, reason: 'principal_disabled', detail });

async function checkUser(db: D1Database, id: string, what: string): Promise<PrincipalVerdict> {
  const user = await getUserById(db, id);
  if (!user) return revoked(`${what} was deleted`);
  if (user.disabled) return disabled(`${what} is disabled`);
  return OK;
}

/** The job's user, who must still hold every permission the job's request used (roles can shrink). */
async function checkJobUser(db: D1Database, config: Config, id: string, requires: readonly Permission[]): Promise<PrincipalVerdict> {
  const user = await getUserById(db, id);
  if (!user) return revoked('the user who created the job was deleted');
  if (user.disabled) return disabled('the user who created the job is disabled');
  const holds = permissionsForRoles(user.roles, config.ROLE_PERMISSIONS);
  const missing = requires.filter((p) => !holds.includes(p));
  if (missing.length > 0) return disabled(`the user who created the job no longer holds ${missing.join(', ')}`);
  return OK;
}

function keyVerdict(rejection: KeyRejection): PrincipalVerdict {
  return rejection === 'disabled'
    ? disabled('the key that created the job is disabled')
    : revoked(`the key that created the job is ${rejection === 'rotation_grace_ended' ? 'rotated out' : rejection}`);
}

/** Pure apart from storage reads; `now` is passed in. */
export async function checkJobPrincipal(
  env: Env,
  config: Config,
  principal: Pick<JobPrincipal, 'kind' | 'id' | 'requires'>,
  now: number,
): Promise<PrincipalVerdict> {
  if (principal.kind === 'user') return checkJobUser(env.DB, config, principal.id, principal.requires ?? []);
  let id = principal.id;
  for (let hop = 0; hop <= MAX_ROTATION_HOPS; hop++) {
    const [record, marker] = await Promise.all([getKey(env, config, id), readMarker(env.REVOCATIONS, id)]);
    if (!record) return revoked('the key that created the job no longer exists');
    const rejection = evaluateKey(record, marker, now);
    if (rejection === 'rotation_grace_ended' && record.rotated_to) {
      id = record.rotated_to;
      continue;
    }
    if (rejection) return keyVerdict(rejection);
    return ownerVerdict(env, config, record, principal.requires ?? []);
  }
  return revoked('the key that created the job was rotated too many times to follow');
}

/** The key's owner must be there and enabled, and — once their roles changed — still grant what the job used. */
async function ownerVerdict(env: Env, config: Config, record: ApiKeyRecord, requires: readonly Permission[]): Promise<PrincipalVerdict> {
  if (!record.owner) return OK;
  if (!record.owner.startsWith('usr_')) return revoked("the key's owner was deleted");
  const [user, marker] = await Promise.all([
    checkUser(env.DB, record.owner, "the key's owner"),
    readOwnerMarker(env.REVOCATIONS, record.owner),
  ]);
  if (!user.ok) return user;
  const held = withinOwnerRoles(requires, marker, config.ROLE_PERMISSIONS);
  const missing = requires.filter((p) => !held.includes(p));
  return missing.length > 0 ? disabled(`the key's owner no longer holds ${missing.join(', ')}`) : OK;
}
