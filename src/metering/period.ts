/**
 * Budget periods (pure): a period starts at a UTC boundary (midnight for `day`, the first of the
 * month for `month`), so every budget of a kind refills at the same instant, whatever time it was set.
 */
export type BudgetPeriod = 'day' | 'month';

/** Start (epoch ms) of the period that contains `now`. */
export function periodStart(period: BudgetPeriod, now: number): number {
  const d = new Date(now);
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start (epoch ms) of the next period: when the budget refills. */
export function periodEnd(period: BudgetPeriod, now: number): number {
  const d = new Date(periodStart(period, now));
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Nominal period length in seconds (the `w` of the RateLimit-Policy header). */
export function periodSeconds(period: BudgetPeriod): number {
  return period === 'day' ? 86_400 : 2_592_000;
}
