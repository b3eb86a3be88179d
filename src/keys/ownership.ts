/**
 * Who owns an API key, and which owner a new key gets — the only place these two decisions are
 * made (pure, no I/O). Both are built on `tenantOf` (src/auth/principal.ts), so when tenancy moves
 * from names to immutable ids the key rules follow without another change here or in the routers.
 *
 * A key's tenant is its `owner` when it has one, else the key itself (`tenantOf` of the principal
 * the key authenticates as). A principal owns a key when they share a tenant: a user owns the keys
 * whose owner is that user; a key with an owner acts for that owner (and so owns its siblings);
 * a key without an owner owns only itself.
 */
import { tenantOf, type Principal } from '../auth/principal';
import type { ApiKeyRecord } from './record';

/** A tenant that is a user (since migration 0009 tenants are immutable ids: `usr_...`). */
const USER_TENANT = 'usr_';

/**
 * The `owner` a key minted by `p` must carry: the caller's own tenant, as the key record spells it.
 * null when the caller's tenant cannot be written as an owner (a key without an owner): such a
 * caller cannot mint keys it would own, so non-admin creation is refused for it.
 */
export function ownerFor(p: Principal): string | null {
  const tenant = tenantOf(p);
  return tenant.startsWith(USER_TENANT) ? tenant : null;
}

/** Does `p` own `rec` (same tenant)? Non-admins may read, rotate, disable or revoke only these. */
export function owns(p: Principal, rec: Pick<ApiKeyRecord, 'id' | 'owner'>): boolean {
  const keyTenant = tenantOf({ kind: 'key', id: rec.id, ...(rec.owner ? { owner: rec.owner } : {}) });
  return tenantOf(p) === keyTenant;
}
