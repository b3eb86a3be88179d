/**
 * The budget ledger kept in a principal's `RateLimiter` object (pure: the object stores the state,
 * this decides). Credits per period with refill at the UTC period start, plus an optional hard total
 * that never refills. Admission reserves the most a request can cost; the refund of what it did not
 * use comes back later (a partial crawl is charged what it used), and only counts against the period
 * it was reserved in, so yesterday's refund never frees today's credits.
 */
import { periodEnd, periodStart, type BudgetPeriod } from './period';

/** A budget as set on a key or a user (`budget: {credits, period, total?}`). */
export interface BudgetConfig {
  credits: number;
  period: BudgetPeriod;
  /** Optional hard total over all periods; absent = none. */
  total?: number;
}

/** What the object stores: the config and the counters. */
export interface BudgetState extends BudgetConfig {
  /** Start of the period `used` belongs to. */
  periodStart: number;
  used: number;
  totalUsed: number;
}

/** A budget as reads return it (shared/API.md "Budgets"). */
export interface BudgetView {
  credits: number;
  period: BudgetPeriod;
  total?: number;
  total_used?: number;
  used: number;
  remaining: number;
  resets_at: string;
}

export interface BudgetDecision {
  allowed: boolean;
  /** Credits reserved by this request (0 when refused). */
  reserved: number;
  /** The period the reservation belongs to (refunds name it). */
  periodStart: number;
  view: BudgetView;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The state as of `now`: a new period starts with nothing used (the refill). */
export function refilled(state: BudgetState, now: number): BudgetState {
  const start = periodStart(state.period, now);
  return start > state.periodStart ? { ...state, periodStart: start, used: 0 } : state;
}

export function budgetView(state: BudgetState, now: number): BudgetView {
  const s = refilled(state, now);
  const periodLeft = s.credits - s.used;
  const totalLeft = s.total === undefined ? Infinity : s.total - s.totalUsed;
  return {
    credits: s.credits,
    period: s.period,
    ...(s.total !== undefined ? { total: s.total, total_used: round(s.totalUsed) } : {}),
    used: round(s.used),
    remaining: round(Math.max(0, Math.min(periodLeft, totalLeft))),
    resets_at: new Date(periodEnd(s.period, now)).toISOString(),
  };
}

/** Admits a reservation of `reserve` credits, or refuses it whole (nothing is charged then). */
export function reserve(state: BudgetState, amount: number, now: number): { decision: BudgetDecision; next: BudgetState } {
  const s = refilled(state, now);
  const view = budgetView(s, now);
  const fits = amount <= 0 || view.remaining + 1e-9 >= amount;
  if (!fits) return { decision: { allowed: false, reserved: 0, periodStart: s.periodStart, view }, next: s };
  const next = { ...s, used: s.used + Math.max(0, amount), totalUsed: s.totalUsed + Math.max(0, amount) };
  return { decision: { allowed: true, reserved: Math.max(0, amount), periodStart: s.periodStart, view: budgetView(next, now) }, next };
}

/** Gives back `amount` credits reserved in the period starting at `chargedIn`. */
export function refund(state: BudgetState, amount: number, chargedIn: number, now: number): BudgetState {
  if (amount <= 0) return state;
  const s = refilled(state, now);
  const used = chargedIn === s.periodStart ? Math.max(0, s.used - amount) : s.used;
  return { ...s, used, totalUsed: Math.max(0, s.totalUsed - amount) };
}

/** A new or changed config keeps what the current period used (lowering credits never refunds, changing the period never resets). */
export function configure(state: BudgetState | null, config: BudgetConfig, now: number): BudgetState {
  const used = state ? refilled(state, now).used : 0;
  return { ...config, periodStart: periodStart(config.period, now), used, totalUsed: state?.totalUsed ?? 0 };
}
