/**
 * The per-host pacing rules, pure (the clock is passed in): the earliest start for the next
 * request (minimum spacing, robots Crawl-delay up to a cap, backoff after 429/503, an open
 * circuit), the in-flight cap, and how an outcome changes the state. The HostPacer object holds
 * one `PacerState` per target host and applies these functions.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface PacerState {
  /** Earliest start of the next request (ms epoch): the last start + the spacing. */
  nextSlot: number;
  /** No request before this (429/503 backoff, Retry-After). */
  backoffUntil: number;
  /** Consecutive 5xx / timeouts / network errors. */
  failures: number;
  circuit: CircuitState;
  /** While `open`: no request before this; then one probe (`half_open`). */
  openUntil: number;
  /** Times the circuit opened in a row (the open period doubles each time). */
  trips: number;
  /** Consecutive 429s (the default backoff doubles with each). */
  limited: number;
}

export const INITIAL_STATE: PacerState = {
  nextSlot: 0,
  backoffUntil: 0,
  failures: 0,
  circuit: 'closed',
  openUntil: 0,
  trips: 0,
  limited: 0,
};

/** Consecutive failures that open the circuit (HOST_CIRCUIT_THRESHOLD's default). */
export const CIRCUIT_THRESHOLD = 5;
export const CIRCUIT_OPEN_MS = 30_000;
export const MAX_BACKOFF_MS = 10 * 60_000;
/** Backoff after a 429/503 without a usable Retry-After: doubles per consecutive one, from this. */
export const DEFAULT_BACKOFF_MS = 5_000;

export interface PaceLimits {
  minDelayMs: number;
  maxConcurrency: number;
  /** The longest robots Crawl-delay honoured (HOST_MAX_CRAWL_DELAY_MS). */
  maxCrawlDelayMs: number;
  /** Consecutive 5xx / timeouts / network errors that open the circuit (HOST_CIRCUIT_THRESHOLD). */
  circuitThreshold?: number;
}

/** Spacing between request starts: the configured minimum, raised by Crawl-delay up to the cap. */
export function spacingMs(limits: PaceLimits, crawlDelayMs: number | null): number {
  return Math.max(limits.minDelayMs, Math.min(crawlDelayMs ?? 0, limits.maxCrawlDelayMs));
}

export type Plan =
  | { kind: 'go'; startAt: number }
  /** At the in-flight cap: wait for a lease to end. */
  | { kind: 'full' }
  /** The earliest start is past the caller's wait budget. */
  | { kind: 'busy'; retryAfterMs: number; reason: string };

/** The circuit as seen at `now` (an open circuit turns half-open when its period ends). */
export function currentCircuit(s: PacerState, now: number): CircuitState {
  return s.circuit === 'open' && now >= s.openUntil ? 'half_open' : s.circuit;
}

/** What to do with one more request at `now`, given `inFlight` leases. */
export function plan(s: PacerState, now: number, inFlight: number, limits: PaceLimits, maxWaitMs: number): Plan {
  const circuit = currentCircuit(s, now);
  if (circuit === 'open' && s.openUntil - now > maxWaitMs) {
    return { kind: 'busy', retryAfterMs: s.openUntil - now, reason: `host circuit open after ${s.failures} consecutive failures` };
  }
  const capacity = circuit === 'half_open' ? 1 : limits.maxConcurrency;
  if (inFlight >= capacity) return { kind: 'full' };
  const startAt = Math.max(now, s.nextSlot, s.backoffUntil, circuit === 'open' ? s.openUntil : 0);
  if (startAt - now > maxWaitMs) {
    const why = s.backoffUntil > now ? 'host backing off after 429/503' : 'host has no free slot';
    return { kind: 'busy', retryAfterMs: startAt - now, reason: `${why} within the wait budget` };
  }
  return { kind: 'go', startAt };
}

/** The state after reserving a start at `startAt` with `spacing`. */
export function reserve(s: PacerState, startAt: number, spacing: number): PacerState {
  return { ...s, nextSlot: startAt + spacing };
}

export interface Outcome {
  /** HTTP status, or null when no response came (then `failure` says why). */
  status: number | null;
  /** Retry-After in ms, when the response sent one. */
  retryAfterMs?: number;
  /** `cancelled`: the caller gave up (client gone); says nothing about the host. */
  failure?: 'timeout' | 'network' | 'cancelled';
}

/**
 * The state after a request ended with `o` at `now`. A 429 pauses the host for its Retry-After
 * (RFC 6585 §4, RFC 9110 §10.2.3), else for an exponential default; a 503 pauses it only when it
 * says for how long (a bare 503 may be one page's problem) and counts toward the circuit like
 * any 5xx, timeout or network error.
 */
export function afterOutcome(s: PacerState, o: Outcome, now: number, threshold = CIRCUIT_THRESHOLD): PacerState {
  if (o.failure === 'cancelled') return s;
  let next: PacerState = s;
  if (o.status === 429) {
    const limited = s.limited + 1;
    const wait = Math.min(MAX_BACKOFF_MS, o.retryAfterMs ?? DEFAULT_BACKOFF_MS * 2 ** Math.min(limited - 1, 10));
    return { ...s, limited, backoffUntil: Math.max(s.backoffUntil, now + wait) };
  }
  if (o.status === 503 && o.retryAfterMs !== undefined)
    next = { ...next, backoffUntil: Math.max(s.backoffUntil, now + Math.min(MAX_BACKOFF_MS, o.retryAfterMs)) };
  const failed = o.status === null || o.status >= 500;
  if (!failed) return { ...next, failures: 0, limited: 0, circuit: 'closed', trips: 0, openUntil: 0 };
  return maybeTrip({ ...next, failures: next.failures + 1 }, now, threshold);
}

function maybeTrip(s: PacerState, now: number, threshold: number): PacerState {
  const halfOpenProbeFailed = currentCircuit(s, now) === 'half_open';
  if (s.failures < threshold && !halfOpenProbeFailed) return s;
  const openMs = Math.min(MAX_BACKOFF_MS, CIRCUIT_OPEN_MS * 2 ** Math.min(s.trips, 10));
  return { ...s, circuit: 'open', openUntil: now + openMs, trips: s.trips + 1 };
}
