/**
 * TEST-ONLY authentication: an app built with `createApp({ verifiers })` whose verifiers accept
 * credentials minted here for a chosen principal. It lets crawl tests run before the API-key and
 * JWT verifiers exist; once they land, tests can seed real keys and use `call()` instead.
 * Everything else (middleware, D1, KV, DOs, the origin) is the real thing.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { createApp } from '../../src/app';
import type { Principal } from '../../src/auth/principal';
import { permissionsForRoles, ROLES, type Permission, type Role } from '../../src/auth/rbac';
import type { CredentialVerifier } from '../../src/auth/verifier';
import { BASE } from './test-vars';

const principals = new Map<string, Principal>();

const testVerifier: CredentialVerifier = async (_c, credential) => {
  const principal = principals.get(credential);
  return principal ? { ok: true, principal } : { ok: false, code: 'invalid_credentials', reason: 'unknown_test_credential' };
};

/** The real app with test verifiers (module scope: one per test file's isolate). */
export const testApp = createApp({ verifiers: { apiKey: testVerifier, jwt: testVerifier } });

const inD1 = new Set<string>();

/**
 * Makes a test principal exist in D1 like a real one (a user row, or a key row and its owner's
 * user row), once per isolate: running jobs re-check their creator there before each batch
 * (src/jobs/principal-check.ts) and pause when it is gone. The username is the id (ids are unique).
 */
async function ensureInD1(p: Principal): Promise<void> {
  if (inD1.has(p.id)) return;
  const db = (env as unknown as { DB: D1Database }).DB;
  // A user row whose roles grant the principal's permissions, as a real user's would (a job's re-check
  // reads them): the principal's own roles, else the narrowest default role that covers its permissions.
  const roles: Role[] =
    p.kind === 'user' && p.roles.length > 0
      ? p.roles
      : p.kind === 'user'
        ? [[...ROLES].reverse().find((r) => p.permissions.every((perm) => permissionsForRoles([r]).includes(perm))) ?? 'admin']
        : [];
  const user = (id: string, userRoles: Role[]) =>
    db
      .prepare(
        "INSERT OR IGNORE INTO users (id, username, password_hash, roles, disabled, password_changed_at, created_at, updated_at) VALUES (?1, ?1, '!', ?2, 0, 0, 0, 0)",
      )
      .bind(id, JSON.stringify(userRoles));
  const statements =
    p.kind === 'user'
      ? [user(p.id, roles)]
      : [
          db
            .prepare(
              "INSERT OR IGNORE INTO api_keys (id, digest, prefix, name, scopes, owner, status, environment, created_at) VALUES (?1, 'test-digest:' || ?1, 'cgtest', ?2, '[]', ?3, 'active', 'test', 0)",
            )
            .bind(p.id, p.name, p.owner ?? null),
          ...(p.owner ? [user(p.owner, [])] : []),
        ];
  await db.batch(statements);
  inD1.add(p.id);
}

/** Registers a principal and returns a credential that authenticates as it. */
export function credentialFor(p: {
  id: string;
  permissions: Permission[];
  kind?: Principal['kind'];
  name?: string;
  owner?: string;
  maxConcurrency?: number;
  rateLimit?: string;
  roles?: Principal['roles'];
}): string {
  const credential = `cgtest_${p.id}_${crypto.randomUUID().replace(/-/g, '')}`;
  principals.set(credential, {
    kind: p.kind ?? 'key',
    id: p.id,
    name: p.name ?? p.id,
    roles: p.roles ?? [],
    permissions: p.permissions,
    owner: p.owner,
    maxConcurrency: p.maxConcurrency,
    rateLimit: p.rateLimit,
  });
  return credential;
}

export interface CallAsOptions extends RequestInit {
  json?: unknown;
  ip?: string;
  /** Extra vars for this call (config is parsed per env object), e.g. `{ ORIGIN_TIMEOUT_MS: '1000' }`. */
  vars?: Record<string, string>;
}

/** Sends a request through the test app as the holder of `credential` (or anonymously with null). */
export async function callAs(credential: string | null, path: string, options: CallAsOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  let body = options.body;
  if (options.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(options.json);
  }
  if (credential) headers.set('Authorization', `Bearer ${credential}`);
  const principal = credential ? principals.get(credential) : undefined;
  if (principal) await ensureInD1(principal);
  if (options.ip) headers.set('CF-Connecting-IP', options.ip);
  const method = options.method ?? (body !== undefined && body !== null ? 'POST' : 'GET');
  const { vars: _vars, json: _json, ip: _ip, ...init } = options;
  const request = new Request(path.startsWith('http') ? path : BASE + path, { ...init, method, headers, body, redirect: 'manual' });
  const ctx = createExecutionContext();
  const res = await testApp.fetch(request, options.vars ? { ...env, ...options.vars } : env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** The origin's base URL (the real Node server the global setup started). */
export function originUrl(): string {
  return (env as unknown as { ORIGIN_URL: string }).ORIGIN_URL;
}

/** What the origin received for a request id (`X-Request-Id` chosen by the test). */
export async function originSaw(
  requestId: string,
): Promise<{ method: string; path: string; headers: Record<string, string | string[]>; body: string } | null> {
  const res = await fetch(`${originUrl()}/__last?request_id=${encodeURIComponent(requestId)}`);
  return res.status === 200 ? res.json() : null;
}

/** A fresh, valid request id for one test request. */
export function newRequestId(label: string): string {
  return `test-${label}-${crypto.randomUUID()}`;
}
