/**
 * Authentication middleware: credential → verifier (API key or JWT) → `c.var.principal`.
 * Fails closed: any verifier error is a 401 (never a 500 from a crypto library), and the audit
 * row keeps the real reason while the client sees one generic message.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { denialAuditDecision } from '../audit/aggregate';
import { countAuthFailure } from '../metrics/recorder';
import { extractCredential } from './credentials';
import { requestRoute, requestUrl } from '../http/request-target';
import type { AuthResult, CredentialVerifier } from './verifier';
import type { AuditActor } from '../audit/types';
import { dispatchedPrincipal } from './dispatch';
import { isOAuthToken } from '../oauth/verify';

/** The verifier for each kind of credential. The app (src/app.ts) names them: API keys, JWTs, OAuth tokens. */
export interface CredentialVerifiers {
  apiKey: CredentialVerifier;
  jwt: CredentialVerifier;
  /** OAuth access tokens issued to MCP clients (src/oauth/verify.ts); without it such a token is refused. */
  oauth?: CredentialVerifier;
}

export interface AuthenticateOptions {
  /** When true, a request without any credential passes through anonymous. */
  optional?: boolean;
  /**
   * Required where a credential is first read: the app's own `authenticate({ optional: true, verifiers })`.
   * Later calls on the same request (requirePermission, /metrics) find the principal already set, or no
   * credential at all; one that still meets a credential without verifiers refuses it (fail closed).
   */
  verifiers?: CredentialVerifiers;
}

const OAUTH_CLIENT_ROUTES = new Set(['/oauth/token', '/oauth/register']);

function executionContextOf(c: Context<AppEnv>): unknown {
  try {
    return c.executionCtx;
  } catch {
    return undefined; // no execution context (a unit test calling the app directly)
  }
}

/** Resolves the caller, or throws the 401 the client sees. Usable outside middleware (e.g. /metrics). */
export async function resolvePrincipal(c: Context<AppEnv>, options: AuthenticateOptions = {}): Promise<boolean> {
  if (c.get('principal')) return true; // already authenticated earlier in this request
  // An in-process dispatch (an MCP tool call → its route) acts as the principal the outer request verified.
  const inner = dispatchedPrincipal(executionContextOf(c));
  if (inner) {
    c.set('principal', inner);
    return true;
  }
  // The OAuth token and registration endpoints authenticate OAuth *clients* (e.g. `Authorization: Basic`,
  // RFC 6749 §2.3.1), which the provider checks; they are not gateway credentials.
  if (options.optional && OAUTH_CLIENT_ROUTES.has(requestRoute(c).template ?? '')) return false;
  const verifiers = options.verifiers;
  let credential;
  try {
    credential = extractCredential(c.req.raw.headers, requestUrl(c));
  } catch (err) {
    if (err instanceof GatewayError) fail(c, err, err.code);
    throw err;
  }
  if (!credential) {
    if (options.optional) return false;
    fail(
      c,
      new GatewayError('invalid_credentials', 'Authentication required: send Authorization: Bearer <key or token>'),
      'missing_credential',
    );
  }
  if (!verifiers) fail(c, new GatewayError('invalid_credentials', genericDetail('invalid_credentials')), 'no_verifier');
  let result: AuthResult;
  try {
    // OAuth access tokens (`<user>:<grant>:<secret>`, src/oauth/verify.ts) look like neither a JWS nor a key.
    const verify =
      credential.kind === 'jwt' ? verifiers.jwt : isOAuthToken(credential.value) ? (verifiers.oauth ?? verifiers.apiKey) : verifiers.apiKey;
    result = await verify(c, credential.value);
  } catch (err) {
    if (err instanceof GatewayError && err.status >= 500) throw err; // e.g. limiter/store down: not an auth failure
    console.error('verifier threw', { kind: credential.kind, error: String(err) });
    result = { ok: false, code: credential.kind === 'jwt' ? 'invalid_token' : 'invalid_credentials', reason: 'verifier_error' };
  }
  if (!result.ok) {
    fail(c, new GatewayError(result.code, genericDetail(result.code)), result.reason, result.actor);
  }
  c.set('principal', result.principal);
  return true;
}

/** Middleware factory: `authenticate()` requires a credential; `authenticate({optional:true})` does not. */
export function authenticate(options: AuthenticateOptions = {}): MiddlewareHandler<AppEnv> {
  return async function authenticateMiddleware(c, next) {
    await resolvePrincipal(c, options);
    await next();
  };
}

function genericDetail(code: string): string {
  switch (code) {
    case 'token_expired':
      return 'The access token has expired';
    case 'token_revoked':
      return 'The token has been revoked';
    case 'invalid_token':
      return 'The access token is invalid';
    default:
      return 'Invalid credentials';
  }
}

function fail(c: Context<AppEnv>, err: GatewayError, reason: string, actor?: AuditActor): never {
  countAuthFailure(reason);
  // One row per client address, reason and key/user per window; the next row says how many it stood for.
  const d = denialAuditDecision(`auth_failed|${c.get('clientIp') ?? 'unknown'}|${reason}|${actor?.id ?? ''}`, Date.now());
  if (d.write)
    audit(c, {
      action: 'auth_failed',
      outcome: 'denied',
      reason,
      status: err.status,
      ...(actor ? { actor } : {}),
      ...(d.suppressed ? { details: { suppressed: d.suppressed } } : {}),
    });
  throw err;
}
