/**
 * Audit test helpers: the real app acting as chosen test principals (through `createApp`'s
 * verifier option, like test/helpers/principal.ts, but reading the whole body before waiting),
 * deterministic waits for audit rows, and event factories.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Env } from '../../src/env';
import type { Principal } from '../../src/auth/principal';
import type { CredentialVerifier } from '../../src/auth/verifier';
import type { AuditEvent, AuditRow } from '../../src/audit/types';
import { permissionsForRoles, type Role } from '../../src/auth/rbac';
import { auditShardCount, auditShardStub, writeAuditEvents } from '../../src/audit/writer';
import { decodeRecords, gunzip } from '../../src/audit/segment-codec';
import { CHECKPOINT_PREFIX } from '../../src/audit/checkpoint';
import { createApp } from '../../src/app';
import { BASE } from './test-vars';

export const testEnv = env as unknown as Env;

/** A principal with the given roles (id `usr_<name>`). */
export function userPrincipal(name: string, roles: Role[]): Principal {
  return { kind: 'user', id: `usr_${name}`, name, roles, permissions: permissionsForRoles(roles) };
}

/** The real app (every middleware and router, `createApp`) with credentials looked up in `principals`. */
export function auditTestApp(principals: Record<string, Principal>): OpenAPIHono<AppEnv> {
  const verify: CredentialVerifier = async (_c, credential) => {
    const p = principals[credential];
    return p ? { ok: true, principal: p } : { ok: false, code: 'invalid_credentials', reason: 'unknown_test_credential' };
  };
  return createApp({ verifiers: { apiKey: verify, jwt: verify } });
}

/**
 * Calls `app` and waits for everything it handed to `waitUntil` (the audit writes), so the rows
 * are in D1 when this returns. The body is read first so streamed exports finish too.
 */
export async function callApp(
  app: OpenAPIHono<AppEnv>,
  path: string,
  init: RequestInit & { credential?: string; ip?: string; envOverride?: Env } = {},
): Promise<{ res: Response; text: string }> {
  const headers = new Headers(init.headers);
  if (init.credential) headers.set('Authorization', `Bearer ${init.credential}`);
  if (init.ip) headers.set('CF-Connecting-IP', init.ip);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(BASE + path, { ...init, headers }), init.envOverride ?? testEnv, ctx);
  const text = new TextDecoder().decode(await res.arrayBuffer());
  await waitOnExecutionContext(ctx);
  return { res, text };
}

/** Writes events through the real writer (AuditLog DO → D1) and resolves when they are stored. */
export async function seedEvents(events: AuditEvent[]): Promise<void> {
  await writeAuditEvents(testEnv, events);
}

let counter = 0;
/**
 * An event with sensible defaults; `ts` defaults to now. The default action is a security decision
 * (a D1 row): allowed `crawl_requested` events are archived to R2 segments (docs/audit.md "Archive").
 */
export function makeEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  counter++;
  return {
    ts: Date.now(),
    request_id: `req-test-${counter}-${crypto.randomUUID().slice(0, 8)}`,
    actor_id: 'usr_seed',
    actor_kind: 'user',
    actor_name: 'seed',
    ip: '203.0.113.7',
    method: 'POST',
    route: '/test',
    action: 'key_validated',
    outcome: 'success',
    reason: null,
    status: 200,
    details: null,
    ...overrides,
  };
}

/** Every archived (R2) record of every shard: its open window and its segments. */
export async function archivedRows(env: Env = testEnv): Promise<AuditRow[]> {
  const out: AuditRow[] = [];
  for (let s = 0; s < auditShardCount(env); s++) {
    const { segments, pending } = await auditShardStub(env, s).archiveRead(s, 0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1000);
    for (const seg of segments) {
      const object = await env.RESULTS.get(seg.key);
      if (object) out.push(...decodeRecords(await gunzip(await object.arrayBuffer())));
    }
    out.push(...pending);
  }
  return out;
}

/** Rows for one request id: D1 rows and archived records, by id. */
export async function rowsFor(requestIdValue: string): Promise<AuditRow[]> {
  const { results } = await testEnv.DB.prepare('SELECT * FROM audit_events WHERE request_id = ? ORDER BY id')
    .bind(requestIdValue)
    .all<AuditRow>();
  const archived = (await archivedRows()).filter((r) => r.request_id === requestIdValue);
  return [...results, ...archived].sort((a, b) => a.id - b.id);
}

/** Asks every shard's writer to flush its D1 buffer. */
export async function flushAllShards(env: Env = testEnv): Promise<void> {
  for (let s = 0; s < auditShardCount(env); s++) await auditShardStub(env, s).flush();
}

/**
 * Waits, deterministically bounded, until `min` rows for the request id are in D1. Used after a
 * request through the real Worker, whose `waitUntil` we cannot await: each round trip asks the
 * AuditLog object to flush, which also yields to the pending background write.
 */
export async function waitForAuditRows(requestIdValue: string, min = 1, rounds = 100): Promise<AuditRow[]> {
  for (let i = 0; i < rounds; i++) {
    const rows = await rowsFor(requestIdValue);
    if (rows.length >= min) return rows;
    await flushAllShards();
    await scheduler.wait(5);
  }
  throw new Error(`no audit row for request ${requestIdValue} after ${rounds} rounds`);
}

/**
 * Test-only: removes the signed audit checkpoints from R2. The local R2 bucket outlives a test file's
 * Durable Objects, so a checkpoint signed over another file's shard heads would make this file's
 * (younger) objects read as rolled back; verify then answers 503 as it must in production.
 */
export async function clearAuditCheckpoints(): Promise<void> {
  const bucket = (env as unknown as Env).RESULTS;
  const listed = await bucket.list({ prefix: CHECKPOINT_PREFIX });
  const keys = listed.objects.map((o) => o.key);
  if (keys.length) await bucket.delete(keys);
}
