/**
 * Test-only: an app whose verifiers map the credential `as:<name>` to a chosen principal, for tests
 * of routes whose subject is not authentication itself (ownership, per-field policy, limits).
 * Everything else (bindings, middleware, routers) is the real app.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { createApp } from '../../src/app';
import type { Env } from '../../src/env';
import type { Principal } from '../../src/auth/principal';
import type { CredentialVerifier } from '../../src/auth/verifier';
import { BASE } from './test-vars';

export function makePrincipal(overrides: Partial<Principal> & { id: string }): Principal {
  return { kind: 'key', name: overrides.id, roles: [], permissions: [], ...overrides };
}

export function appAs(principals: Record<string, Principal>, e: Env = env as unknown as Env) {
  const verify: CredentialVerifier = async (_c, credential) => {
    const p = credential.startsWith('as:') ? principals[credential.slice(3)] : undefined;
    return p ? { ok: true, principal: p } : { ok: false, code: 'invalid_credentials', reason: 'unknown_test_principal' };
  };
  const app = createApp({ verifiers: { apiKey: verify, jwt: verify } });
  return async function fetchAs(name: string | null, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (name) headers.set('Authorization', `Bearer as:${name}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('Content-Type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(BASE + path, { ...init, headers, body, redirect: 'manual' }), e, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}
