/**
 * Authorization: the one check every protected route uses. Roles and API-key scopes share
 * permission names; a missing one is 403 `insufficient_scope` naming it.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import type { Permission } from './rbac';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { authenticate } from './authenticate';

/** Throws 403 unless the authenticated principal holds every listed permission. */
export function assertPermission(c: Context<AppEnv>, ...needed: Permission[]): void {
  const p = c.get('principal');
  if (!p) throw new GatewayError('invalid_credentials', 'Authentication required');
  const missing = needed.filter((perm) => !p.permissions.includes(perm));
  if (missing.length > 0) {
    audit(c, { action: 'permission_denied', outcome: 'denied', reason: `missing:${missing.join(',')}`, status: 403 });
    throw new GatewayError('insufficient_scope', `This request needs the permission "${missing.join('", "')}"`, {
      headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${missing.join(' ')}"` },
      extras: { required: missing },
    });
  }
}

/** Middleware: authenticate (if not yet) then require the permissions. */
export function requirePermission(...needed: Permission[]): MiddlewareHandler<AppEnv> {
  const auth = authenticate();
  return async function requirePermissionMiddleware(c, next) {
    if (!c.get('principal')) await auth(c, async () => {});
    assertPermission(c, ...needed);
    await next();
  };
}
