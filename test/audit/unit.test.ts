/** Pure parts of the audit log: hashing, the chain walker, query building, cursors, backoff. */
import { describe, expect, it } from 'vitest';
import { ChainVerifier, GENESIS_HASH, chainEvent, hashRow, normalizeEvent } from '../../src/audit/hash-chain';
import { buildAuditQuery, decodeCursor, encodeCursor, ownActorRestriction, parseInstant } from '../../src/audit/query';
import { retryDelayMs, RETRY_MAX_MS } from '../../src/audit/audit-chain';
import { retentionCutoff } from '../../src/audit/retention';
import type { AuditRow } from '../../src/audit/types';
import { makeEvent, userPrincipal } from '../helpers/audit';

/** Also asserted by test/node/audit-verify-cli.test.ts: Node and workerd hash alike. */
export const VECTOR = {
  row: {
    id: 1,
    ts: 1_790_000_000_000,
    request_id: 'req-1',
    actor_id: 'usr_a',
    actor_kind: 'user',
    actor_name: 'ä\r\n<b>',
    ip: '192.0.2.1',
    method: 'POST',
    route: '/auth/token',
    action: 'login_failed',
    outcome: 'denied',
    reason: null,
    status: 401,
    details: '{"n":1}',
    prev_hash: GENESIS_HASH,
  },
  hash: '0248e8f117604de947a228a7149b66d951d87fcefd31874998fa7669e6801f88',
} as const;

function chain(n: number): AuditRow[] {
  const rows: AuditRow[] = [];
  let prev = { id: 0, hash: GENESIS_HASH };
  for (let i = 0; i < n; i++) {
    const row = chainEvent(makeEvent({ reason: `r${i}` }), prev);
    rows.push(row);
    prev = row;
  }
  return rows;
}

function walk(rows: AuditRow[]) {
  const v = new ChainVerifier();
  for (const r of rows) if (v.push(r)) break;
  return v.broken;
}

describe('hash chain', () => {
  it('hashes a fixed row to a fixed SHA-256 (the canonical encoding is stable)', () => {
    expect(hashRow(VECTOR.row as unknown as AuditRow)).toBe(VECTOR.hash);
  });

  it('accepts an intact chain and names edited, deleted, reordered and relinked rows', () => {
    const rows = chain(5);
    expect(walk(rows)).toBeNull();
    expect(walk(rows.map((r) => (r.id === 3 ? { ...r, status: 500 } : r)))).toMatchObject({ seq: 3, kind: 'edited' });
    expect(walk(rows.filter((r) => r.id !== 2))).toMatchObject({ seq: 2, kind: 'deleted' });
    const swapped = [rows[0], { ...rows[2], id: 2 }, { ...rows[1], id: 3 }, rows[3], rows[4]] as AuditRow[];
    expect(walk(swapped)).toMatchObject({ seq: 2, kind: 'reordered' });
    // Row 2 removed and row 3 renumbered and re-hashed: its own hash holds, its link does not.
    const renumbered = { ...rows[2]!, id: 2 };
    expect(walk([rows[0]!, { ...renumbered, hash: hashRow(renumbered) }])).toMatchObject({ seq: 2, kind: 'relinked' });
  });

  it('normalises what D1 could not store byte-for-byte (lone surrogates, NUL) before hashing', () => {
    const e = normalizeEvent(makeEvent({ actor_name: 'a\uD800b\u0000c' }));
    expect(e.actor_name).toBe('a\uFFFDb\uFFFDc');
  });
});

describe('audit queries', () => {
  it('builds parameterised SQL only: filter values never enter the SQL text', () => {
    const evil = "x' OR 1=1 --";
    const q = buildAuditQuery(
      { actor: evil, action: 'logout', outcome: 'denied', since: 1, until: 2, ownActorId: 'usr_v' },
      { ts: 5, id: 9 },
      51,
    );
    expect(q.sql).not.toContain(evil);
    expect(q.params).toEqual(['usr_v', evil, 'logout', 'denied', 1, 2, 5, 5, 9, 51]); // actor= matches actor_id only
    expect(q.sql).toMatch(/ORDER BY ts DESC, id DESC LIMIT \?$/);
  });

  it('round-trips cursors and refuses forged ones', () => {
    expect(decodeCursor(encodeCursor({ ts: 1_790_000_000_123, id: 42 }))).toEqual({ ts: 1_790_000_000_123, id: 42 });
    expect(() => decodeCursor('djEuMS4y; DROP')).toThrow();
    expect(() => decodeCursor(btoa('v1.1.x'))).toThrow();
  });

  it('parses instants as milliseconds or ISO 8601', () => {
    expect(parseInstant('1790000000000')).toBe(1_790_000_000_000);
    expect(parseInstant('2026-11-01T00:00:00Z')).toBe(Date.UTC(2026, 10, 1));
    expect(parseInstant('yesterday')).toBeNull();
    expect(parseInstant('2026-13-45')).toBeNull();
  });

  it('restricts everyone but admins and operators to their own events', () => {
    expect(ownActorRestriction(userPrincipal('a', ['admin']))).toBeUndefined();
    expect(ownActorRestriction(userPrincipal('o', ['operator']))).toBeUndefined();
    expect(ownActorRestriction(userPrincipal('v', ['viewer']))).toBe('usr_v');
  });
});

describe('delivery and retention arithmetic', () => {
  it('backs off exponentially to a cap', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(50)).toBe(RETRY_MAX_MS);
  });

  it('cuts off at now minus the retention period', () => {
    expect(retentionCutoff(100 * 86_400_000, 90)).toBe(10 * 86_400_000);
  });
});
