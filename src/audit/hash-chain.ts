/**
 * The audit hash chain (pure; no bindings, so the Node CLI `scripts/audit-verify.mjs` imports it too).
 *
 *   hash(row) = hex(SHA-256(JSON.stringify(["crawlgate-audit-v1", id, ts, request_id, actor_id,
 *               actor_kind, actor_name, ip, method, route, action, outcome, reason, status,
 *               details, prev_hash])))
 *
 * JSON of strings, integers and nulls is deterministic, so the encoding is canonical. The id
 * (sequence number) is inside the hash, so moving a row is as visible as editing it; prev_hash
 * links each row to the one before, so deleting a row breaks the next link.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent, AuditRow } from './types';

/** prev_hash of the first row of a chain that was never pruned. */
export const GENESIS_HASH = '0'.repeat(64);
export const HASH_VERSION = 'crawlgate-audit-v1';

/** Column caps: user-supplied strings are data, but not unbounded data. */
const CAPS: Partial<Record<keyof AuditEvent, number>> = {
  request_id: 128,
  actor_id: 256,
  actor_name: 256,
  ip: 64,
  method: 16,
  route: 512,
  reason: 256,
  details: 4096,
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Makes a string storable byte-for-byte (well-formed UTF-16, no NUL) and caps its length. */
export function storableText(value: string, max: number): string {
  const capped = value.length > max ? value.slice(0, max) : value;
  return capped.replace(LONE_SURROGATE, '\uFFFD').replace(/\u0000/g, '\uFFFD');
}

/** What the writer stores: the same text D1 will give back, so verification recomputes the same hash. */
export function normalizeEvent(e: AuditEvent): AuditEvent {
  const out = { ...e };
  for (const [field, max] of Object.entries(CAPS) as Array<[keyof AuditEvent, number]>) {
    const v = out[field];
    if (typeof v === 'string') (out as Record<string, unknown>)[field] = storableText(v, max);
  }
  out.ts = Math.trunc(Number(e.ts));
  out.status = e.status === null || e.status === undefined ? null : Math.trunc(Number(e.status));
  return out;
}

/** The canonical encoding hashed for one row (see the module comment). */
export function canonicalEncoding(row: Omit<AuditRow, 'hash'>): string {
  return JSON.stringify([
    HASH_VERSION,
    row.id,
    row.ts,
    row.request_id,
    row.actor_id,
    row.actor_kind,
    row.actor_name ?? null,
    row.ip ?? null,
    row.method,
    row.route,
    row.action,
    row.outcome,
    row.reason ?? null,
    row.status ?? null,
    row.details ?? null,
    row.prev_hash,
  ]);
}

export function hashRow(row: Omit<AuditRow, 'hash'>): string {
  return createHash('sha256').update(canonicalEncoding(row), 'utf8').digest('hex');
}

/** Appends one event after `prev` ({id, hash} of the chain head). */
export function chainEvent(event: AuditEvent, prev: { id: number; hash: string }): AuditRow {
  const base = { ...normalizeEvent(event), id: prev.id + 1, prev_hash: prev.hash };
  return { ...base, hash: hashRow(base) };
}

export type BreakKind = 'edited' | 'deleted' | 'reordered' | 'relinked' | 'truncated' | 'head_mismatch' | 'unreadable';

/** The first broken link the verifier found. */
export interface ChainBreak {
  /** Sequence number where the chain stops holding. */
  seq: number;
  kind: BreakKind;
  detail: string;
}

/**
 * Walks rows in id order and reports the first broken link. Feed it page by page; it keeps only
 * the last row, so memory stays constant however long the chain is.
 */
export class ChainVerifier {
  #prev: { id: number; hash: string };
  #checked = 0;
  #broken: ChainBreak | null = null;

  /** `start`: the pruned boundary (checkpoint) or `{id: 0, hash: GENESIS_HASH}`. */
  constructor(start: { id: number; hash: string } = { id: 0, hash: GENESIS_HASH }) {
    this.#prev = { ...start };
  }

  get checked(): number {
    return this.#checked;
  }
  get last(): { id: number; hash: string } {
    return { ...this.#prev };
  }
  get broken(): ChainBreak | null {
    return this.#broken;
  }

  /** Checks the next row; returns the break (and stops checking) at the first one. */
  push(row: AuditRow): ChainBreak | null {
    if (this.#broken) return this.#broken;
    const expected = this.#prev.id + 1;
    const id = Number(row.id);
    const recomputed = hashRow({ ...row, id });
    if (id > expected) {
      return this.#fail(expected, 'deleted', `rows ${expected}..${id - 1} are missing (the next row present is ${id})`);
    }
    if (recomputed !== row.hash) {
      const movedFrom = findOriginalSeq(row, id);
      if (movedFrom !== null) return this.#fail(id, 'reordered', `row ${id} was written as row ${movedFrom}`);
      return this.#fail(id, 'edited', `row ${id}'s content does not match its hash`);
    }
    if (row.prev_hash !== this.#prev.hash) {
      return this.#fail(id, 'relinked', `row ${id} does not link to row ${this.#prev.id} (rows were removed or re-hashed)`);
    }
    this.#prev = { id, hash: row.hash };
    this.#checked++;
    return null;
  }

  /** After the last row: the chain must reach `anchor` (the writer's last committed row). */
  finish(anchor?: { id: number; hash: string } | null): ChainBreak | null {
    if (this.#broken || !anchor || anchor.id === 0) return this.#broken;
    if (this.#prev.id < anchor.id) {
      return this.#fail(this.#prev.id + 1, 'truncated', `the writer committed rows up to ${anchor.id}; the table ends at ${this.#prev.id}`);
    }
    return this.#broken;
  }

  /** Called when the row with the anchor's id passes: its hash must be the one the writer recorded. */
  checkAnchor(anchor: { id: number; hash: string } | null | undefined): ChainBreak | null {
    if (this.#broken || !anchor || this.#prev.id !== anchor.id) return this.#broken;
    if (this.#prev.hash !== anchor.hash) {
      return this.#fail(
        anchor.id,
        'head_mismatch',
        `row ${anchor.id}'s hash differs from the one the writer recorded (the chain was re-hashed)`,
      );
    }
    return null;
  }

  #fail(seq: number, kind: BreakKind, detail: string): ChainBreak {
    this.#broken = { seq, kind, detail };
    return this.#broken;
  }
}

/** A row whose hash holds under a nearby id was moved there: report where it was written. */
function findOriginalSeq(row: AuditRow, id: number): number | null {
  for (let d = 1; d <= 8; d++) {
    for (const candidate of [id - d, id + d]) {
      if (candidate > 0 && hashRow({ ...row, id: candidate }) === row.hash) return candidate;
    }
  }
  return null;
}
