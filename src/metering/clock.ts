/**
 * The budget clock. In production it is absent: the `RateLimiter` object reads its own clock, so
 * nothing stale from the Worker (whose `Date.now()` stands still during a request) reaches the
 * decision. Tests set one to cross a period boundary without waiting for midnight.
 */
let testClock: (() => number) | null = null;

/** The injected time, or undefined (the object's own clock decides). */
export function budgetNow(): number | undefined {
  return testClock ? testClock() : undefined;
}

/** Test hook: budget decisions see `clock()` as now (null restores the real clock). */
export function setBudgetClockForTests(clock: (() => number) | null): void {
  testClock = clock;
}
