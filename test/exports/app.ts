/**
 * TEST-ONLY: the real app with (1) test verifiers that authenticate as a chosen principal
 * (`createApp({ verifiers })`) and (2) an in-memory job-results store (`createApp({ jobResults })`).
 * Everything else — middleware, D1, R2, the audit DO, the origin used as a webhook receiver — is real.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { createApp } from '../../src/app';
import type { Principal } from '../../src/auth/principal';
import type { Permission } from '../../src/auth/rbac';
import type { CredentialVerifier } from '../../src/auth/verifier';
import { memoryJobResults } from '../../src/exports/source';
import { BASE } from '../helpers/test-vars';

const principals = new Map<string, Principal>();
const verify: CredentialVerifier = async (_c, credential) => {
  const principal = principals.get(credential);
  return principal ? { ok: true, principal } : { ok: false, code: 'invalid_credentials', reason: 'unknown_test_credential' };
};

/** Jobs the test store knows: job id → owning tenant and its records. */
export const jobs = new Map<string, { tenant: string; records: readonly unknown[] }>();
export const exportApp = createApp({ verifiers: { apiKey: verify, jwt: verify }, jobResults: memoryJobResults(jobs, 50) });

export function credentialFor(p: {
  id: string;
  permissions: Permission[];
  kind?: Principal['kind'];
  name?: string;
  owner?: string;
}): string {
  const credential = `cgtest_${p.id}_${crypto.randomUUID().replace(/-/g, '')}`;
  principals.set(credential, {
    kind: p.kind ?? 'user',
    id: p.id,
    name: p.name ?? p.id,
    roles: [],
    permissions: p.permissions,
    owner: p.owner,
  });
  return credential;
}

export async function callAs(
  credential: string | null,
  path: string,
  init: RequestInit & { json?: unknown; vars?: Record<string, string> } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(init.json);
  }
  if (credential) headers.set('Authorization', `Bearer ${credential}`);
  const { json: _j, vars, ...rest } = init;
  const request = new Request(BASE + path, { ...rest, method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
  const ctx = createExecutionContext();
  const res = await exportApp.fetch(request, vars ? { ...env, ...vars } : env, ctx);
  // Waits for waitUntil work too: a stored export has finished when this returns.
  await waitOnExecutionContext(ctx);
  return res;
}
