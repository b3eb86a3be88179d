/** The HostPacer object's RPC shapes (shared by the object, the gate and the admin route). */
import type { CircuitState, Outcome, PaceLimits } from './pacing';
import type { RobotsKind } from './robots-rules';

export interface ReleaseNote extends Outcome {
  leaseId: string;
  /** A lease granted ahead and never used (the request ended first): not counted as a request. */
  unused?: boolean;
}

export interface AcquireRequest {
  /** The page URL (robots is matched on its path and query). */
  url: string;
  respectRobots: boolean;
  /**
   * Origin mode: when robots.txt cannot be reached from the gateway at all (network error, no
   * HTTP answer), leave the decision to the origin crawler, whose network may differ.
   */
  deferUnreachableRobots?: boolean;
  userAgent: string;
  limits: PaceLimits;
  /** How long the caller can wait for a slot; longer → `busy`. */
  maxWaitMs: number;
  /** A lease not released by then ends by itself (a lost release never blocks the host). */
  leaseMs: number;
  allowPrivateTargets: boolean;
  /** Signature-Agent for the robots.txt fetch. */
  agentUrl?: string;
  /** Outcomes of earlier requests from the same caller, applied first (saves a round trip). */
  releases?: ReleaseNote[];
}

/**
 * One call for several pages of one request on one host (src/polite/gate.ts batches them):
 * `urls` are pages waiting now, answered in order like `acquire` (the object may wait for capacity on
 * the first one only when `mayWait`: the caller holds no lease on the host, so no release of its own
 * can be what the wait needs); a page that finds the host full after others were granted is
 * `later` (asked again when one of the caller's leases ends). `ahead` are the request's next pages:
 * leased now only when that costs the host nothing beyond a slot — robots allows them, the spacing
 * (min delay, Crawl-delay) is zero and a slot is free without waiting — else `null` (asked later).
 */
export interface AcquireManyRequest extends Omit<AcquireRequest, 'url'> {
  urls: string[];
  ahead?: string[];
  mayWait: boolean;
}

export type BatchAnswer = AcquireAnswer | { kind: 'later' };

export interface AcquireManyAnswer {
  answers: BatchAnswer[];
  ahead: (AcquireAnswer | null)[];
  /** True when the host's spacing is above zero: pages cannot be leased ahead (do not ask again). */
  spaced: boolean;
  /** Callers were waiting at the host's cap when this answer left: releases should not be held back. */
  contended: boolean;
}

export type AcquireAnswer =
  /** Start the request in `waitMs` ms and release `leaseId` when it ends. */
  | { kind: 'go'; leaseId: string; waitMs: number }
  | { kind: 'disallowed'; reason: string }
  | { kind: 'busy'; retryAfterMs: number; reason: string };

export interface RobotsSnapshot {
  origin: string;
  kind: RobotsKind;
  status: number | null;
  fetched_at: string;
  expires_at: string;
  note: string;
}

/** One host's live state for `GET /admin/hosts`. */
export interface HostSnapshot {
  host: string;
  in_flight: number;
  next_slot_at: string | null;
  backoff_until: string | null;
  circuit: CircuitState;
  consecutive_failures: number;
  circuit_open_until: string | null;
  requests: number;
  robots_refusals: number;
  busy_refusals: number;
  last_status: number | null;
  last_request_at: string | null;
  robots: RobotsSnapshot[];
}
