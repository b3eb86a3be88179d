/**
 * migrations/0009_move_tenants_to_ids.sql on a D1 holding rows written the old way (`user:<name>`,
 * `key:<id>`, key owners by username): rows move to ids, and rows of a deleted account never fall to
 * a later user of the same name. Runs on its own empty D1 (MIGRATION_TEST_DB), migrations applied
 * step by step with the pool's real `applyD1Migrations`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { applyD1Migrations } from 'cloudflare:test';
import { tenantOf } from '../../src/auth/principal';

type Migrations = Parameters<typeof applyD1Migrations>[1];
const bindings = env as unknown as { MIGRATION_TEST_DB: D1Database; TEST_MIGRATIONS: Migrations };
const db = bindings.MIGRATION_TEST_DB;
const ALL = bindings.TEST_MIGRATIONS;
const BEFORE = ALL.filter((m) => m.name < '0009');

async function reset(): Promise<void> {
  const { results } = await db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
    .all<{ name: string }>();
  for (const { name } of results) await db.prepare(`DROP TABLE IF EXISTS "${name}"`).run();
}

const user = (id: string, username: string, at: number) =>
  db
    .prepare(
      "INSERT INTO users (id, username, password_hash, roles, password_changed_at, created_at, updated_at) VALUES (?1, ?2, '!', '[]', ?3, ?3, ?3)",
    )
    .bind(id, username, at);
const key = (id: string, owner: string | null, at: number) =>
  db
    .prepare("INSERT INTO api_keys (id, digest, prefix, name, scopes, owner, created_at) VALUES (?1, 'd-' || ?1, 'cg', 'k', '[]', ?2, ?3)")
    .bind(id, owner, at);
const job = (id: string, tenant: string, principal: string, at: number) =>
  db
    .prepare(
      "INSERT INTO jobs (id, tenant, principal_id, status, priority, engine, total, created_at, updated_at) VALUES (?1, ?2, ?3, 'completed', 'normal', 'fetch', 1, ?4, ?4)",
    )
    .bind(id, tenant, principal, at);
const exp = (id: string, tenant: string, principal: string, at: number) =>
  db
    .prepare(
      "INSERT INTO exports (id, tenant, principal_id, job_id, format, compression, status, created_at, updated_at) VALUES (?1, ?2, ?3, 'j', 'json', 'none', 'completed', ?4, ?4)",
    )
    .bind(id, tenant, principal, at);
const usage = (tenant: string, principal: string, at: number) =>
  db
    .prepare('INSERT INTO usage_hourly (tenant, principal_id, hour, pages, first_at, last_at) VALUES (?1, ?2, 0, 3, ?3, ?3)')
    .bind(tenant, principal, at);
const task = (id: string, tenant: string, principal: string, at: number) =>
  db.prepare('INSERT INTO crawl_tasks (task_id, tenant, principal_id, created_at) VALUES (?1, ?2, ?3, ?4)').bind(id, tenant, principal, at);
const mcp = (id: string, tenant: string, at: number) =>
  db.prepare('INSERT INTO mcp_sessions (session_id, tenant, created_at) VALUES (?1, ?2, ?3)').bind(id, tenant, at);

async function tenants(table: string, idColumn: string): Promise<Record<string, string>> {
  const { results } = await db.prepare(`SELECT ${idColumn} AS id, tenant FROM ${table}`).all<{ id: string; tenant: string }>();
  return Object.fromEntries(results.map((r) => [r.id, r.tenant]));
}

describe('migration 0009: tenants and key owners by id', () => {
  beforeAll(async () => {
    await reset();
    await applyD1Migrations(db, BEFORE);
    // History: an "alice" (usr_alice_old) was deleted; "alice" was created again at t=1000 (usr_alice_now).
    // bob exists since t=500. "Bob" (another case) was never a user.
    await db.batch([
      user('usr_alice_now', 'alice', 1000),
      user('usr_bob', 'bob', 500),
      key('key_alice_old', 'alice', 200), // made for the deleted alice
      key('key_alice_new', 'alice', 1500),
      key('key_bob', 'bob', 600),
      key('key_case', 'Bob', 700),
      key('key_pre', 'carol', 100), // carol never existed
      key('key_solo', null, 100),
      job('j_old_self', 'user:alice', 'usr_alice_old', 300),
      job('j_new_self', 'user:alice', 'usr_alice_now', 1200),
      job('j_old_key_late', 'user:alice', 'key_alice_old', 1600), // run after the name was re-created
      job('j_new_key', 'user:alice', 'key_alice_new', 1600),
      job('j_bob_key', 'user:bob', 'key_bob', 900),
      job('j_case', 'user:Bob', 'key_case', 900),
      job('j_solo', 'key:key_solo', 'key_solo', 900),
      job('j_seed', 'key:seed_ci', 'seed_ci', 900),
      exp('e_old_self', 'user:alice', 'usr_alice_old', 300),
      exp('e_old_key', 'user:alice', 'key_alice_old', 1700),
      exp('e_new_self', 'user:alice', 'usr_alice_now', 1700),
      usage('user:alice', 'usr_alice_old', 300),
      usage('user:alice', 'key_alice_old', 1700),
      usage('user:alice', 'usr_alice_now', 1700),
      usage('key:key_solo', 'key_solo', 1700),
      task('t_old', 'user:alice', 'key_alice_old', 1700),
      task('t_new', 'user:alice', 'usr_alice_now', 1700),
      mcp('m_old', 'user:alice', 300),
      mcp('m_new', 'user:alice', 1200),
    ]);
    await applyD1Migrations(db, ALL);
  });

  it('moves key owners to user ids; keys of a deleted or never-existing user become orphans', async () => {
    const { results } = await db.prepare('SELECT id, owner FROM api_keys ORDER BY id').all<{ id: string; owner: string | null }>();
    expect(Object.fromEntries(results.map((r) => [r.id, r.owner]))).toEqual({
      key_alice_old: 'orphan:user:alice',
      key_alice_new: 'usr_alice_now',
      key_bob: 'usr_bob',
      key_case: 'orphan:user:Bob', // the old comparison was case-sensitive: "Bob" was never bob's tenant
      key_pre: 'orphan:user:carol',
      key_solo: null,
    });
  });

  it('moves jobs, exports, usage, origin tasks and MCP sessions to ids', async () => {
    expect(await tenants('jobs', 'id')).toEqual({
      j_old_self: 'usr_alice_old',
      j_new_self: 'usr_alice_now',
      j_old_key_late: 'orphan:user:alice',
      j_new_key: 'usr_alice_now',
      j_bob_key: 'usr_bob',
      j_case: 'orphan:user:Bob',
      j_solo: 'key_solo',
      j_seed: 'seed_ci',
    });
    expect(await tenants('exports', 'id')).toEqual({
      e_old_self: 'usr_alice_old',
      e_old_key: 'orphan:user:alice',
      e_new_self: 'usr_alice_now',
    });
    expect(await tenants('usage_hourly', 'principal_id')).toEqual({
      usr_alice_old: 'usr_alice_old',
      key_alice_old: 'orphan:user:alice',
      usr_alice_now: 'usr_alice_now',
      key_solo: 'key_solo',
    });
    expect(await tenants('crawl_tasks', 'task_id')).toEqual({ t_old: 'orphan:user:alice', t_new: 'usr_alice_now' });
    expect(await tenants('mcp_sessions', 'session_id')).toEqual({ m_old: 'orphan:user:alice', m_new: 'usr_alice_now' });
  });

  it('leaves the re-created alice only her own rows, and a key still acts for its (orphaned) tenant', async () => {
    const alice = tenantOf({ kind: 'user', id: 'usr_alice_now' });
    const count = async (table: string, tenant: string) =>
      (await db.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant = ?`).bind(tenant).first<{ n: number }>())!.n;
    expect(await count('jobs', alice)).toBe(2);
    expect(await count('exports', alice)).toBe(1);
    expect(await count('usage_hourly', alice)).toBe(1);
    const oldKeyOwner = (await db.prepare("SELECT owner FROM api_keys WHERE id = 'key_alice_old'").first<{ owner: string }>())!.owner;
    expect(tenantOf({ kind: 'key', id: 'key_alice_old', owner: oldKeyOwner })).toBe('orphan:user:alice');
    expect(await count('jobs', 'orphan:user:alice')).toBe(1);
  });

  it('adds jobs.status_reason and keeps no old-style tenant anywhere', async () => {
    await db.prepare("UPDATE jobs SET status_reason = 'principal_revoked' WHERE id = 'j_solo'").run();
    for (const table of ['jobs', 'exports', 'usage_hourly', 'crawl_tasks', 'mcp_sessions']) {
      const n = (await db
        .prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant LIKE 'user:%' OR tenant LIKE 'key:%'`)
        .first<{ n: number }>())!.n;
      expect(n, table).toBe(0);
    }
  });
});
