/**
 * The admin view of one HostPacer object (pure): pacing state, counters and the robots cache,
 * rendered with ISO times for GET /admin/hosts/{host}.
 */
import { currentCircuit, type PacerState } from './pacing';
import type { RobotsRecord } from './robots-rules';
import type { HostSnapshot } from './pacer-types';

/** What the object counts about its host (persisted with its pacing state). */
export interface Counters {
  requests: number;
  refused: number;
  busy: number;
  lastStatus: number | null;
  lastSeen: number;
}

const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString() : null);

export interface HostSnapshotInput {
  host: string | null;
  state: PacerState;
  counters: Counters;
  inFlight: number;
  /** The stored robots rows, ordered by origin. */
  robots: { origin: string; record: string }[];
}

export function hostSnapshot(input: HostSnapshotInput, now: number): HostSnapshot {
  const robots = input.robots.map((r) => {
    const rec = JSON.parse(r.record) as RobotsRecord;
    return {
      origin: r.origin,
      kind: rec.kind,
      status: rec.status,
      fetched_at: iso(rec.fetchedAt)!,
      expires_at: iso(rec.expiresAt)!,
      note: rec.note,
    };
  });
  const s = input.state;
  return {
    host: input.host ?? '',
    in_flight: input.inFlight,
    next_slot_at: s.nextSlot > now ? iso(s.nextSlot) : null,
    backoff_until: s.backoffUntil > now ? iso(s.backoffUntil) : null,
    circuit: currentCircuit(s, now),
    consecutive_failures: s.failures,
    circuit_open_until: s.circuit === 'open' && s.openUntil > now ? iso(s.openUntil) : null,
    requests: input.counters.requests,
    robots_refusals: input.counters.refused,
    busy_refusals: input.counters.busy,
    last_status: input.counters.lastStatus,
    last_request_at: iso(input.counters.lastSeen),
    robots,
  };
}
