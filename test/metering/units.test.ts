/** The pure parts of metering: UTC periods, the budget ledger, the cost table and the charge. */
import { describe, expect, it } from 'vitest';
import { periodEnd, periodStart } from '../../src/metering/period';
import { budgetView, configure, refund, reserve, type BudgetState } from '../../src/metering/budget-ledger';
import { DEFAULT_CREDIT_COSTS, pageCost, parseCreditCosts } from '../../src/metering/costs';
import { budgetedRoute, chargeFor } from '../../src/metering/charge';
import { parseConfig } from '../../src/config';
import { TEST_VARS } from '../helpers/test-vars';

const T = Date.UTC(2031, 0, 31, 23, 59, 59);

describe('UTC periods', () => {
  it('anchors days at midnight and months at the 1st, across a year end', () => {
    expect(periodStart('day', T)).toBe(Date.UTC(2031, 0, 31));
    expect(periodEnd('day', T)).toBe(Date.UTC(2031, 1, 1));
    expect(periodEnd('month', T)).toBe(Date.UTC(2031, 1, 1));
    expect(periodEnd('month', Date.UTC(2031, 11, 15))).toBe(Date.UTC(2032, 0, 1));
  });
});

describe('budget ledger', () => {
  const fresh = configure(null, { credits: 100, period: 'day' }, T);

  it('reserves up to the credits and refuses the reservation that would cross them, whole', () => {
    const a = reserve(fresh, 90, T);
    expect(a.decision).toMatchObject({ allowed: true, reserved: 90 });
    const b = reserve(a.next, 11, T);
    expect(b.decision).toMatchObject({ allowed: false, reserved: 0 });
    expect(b.decision.view).toMatchObject({ used: 90, remaining: 10 });
    expect(reserve(a.next, 10, T).decision.allowed).toBe(true);
  });

  it('refills at the next period and ignores a refund of an earlier period', () => {
    const used = reserve(fresh, 100, T).next;
    const tomorrow = T + 2_000;
    expect(budgetView(used, tomorrow)).toMatchObject({ used: 0, remaining: 100, resets_at: '2031-02-02T00:00:00.000Z' });
    const late = refund(used, 40, periodStart('day', T), tomorrow);
    expect(budgetView(late, tomorrow).used).toBe(0);
    expect(budgetView(refund(used, 40, periodStart('day', T), T), T).used).toBe(60);
  });

  it('enforces the hard total across periods', () => {
    const s: BudgetState = configure(null, { credits: 100, period: 'day', total: 150 }, T);
    const day1 = reserve(s, 100, T).next;
    const day2 = T + 2_000;
    expect(reserve(day1, 60, day2).decision).toMatchObject({ allowed: false });
    expect(reserve(day1, 50, day2).decision.view).toMatchObject({ remaining: 0, total_used: 150 });
  });

  it('keeps what the period used when the budget changes', () => {
    const used = reserve(fresh, 70, T).next;
    expect(budgetView(configure(used, { credits: 50, period: 'day' }, T), T)).toMatchObject({ used: 70, remaining: 0 });
  });
});

describe('CREDIT_COSTS', () => {
  it('defaults, overrides, and refuses unknown names and negative prices', () => {
    expect(parseCreditCosts(undefined)).toEqual(DEFAULT_CREDIT_COSTS);
    expect(parseCreditCosts('{"browser_page":8}')).toMatchObject({ browser_page: 8, fetch_page: 1 });
    expect(parseCreditCosts('{"browser":8}')).toMatch(/browser/);
    expect(parseCreditCosts('{"pdf":-1}')).toMatch(/pdf/);
    const bad = parseConfig({ ...TEST_VARS, CREDIT_COSTS: '{"fetch":1}' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => p.variable)).toContain('CREDIT_COSTS');
  });

  it('prices screenshots and PDFs on their own, other pages by engine', () => {
    expect(pageCost(DEFAULT_CREDIT_COSTS, 'screenshot', 'origin')).toBe(5);
    expect(pageCost(DEFAULT_CREDIT_COSTS, 'md', 'browser')).toBe(5);
    expect(pageCost(DEFAULT_CREDIT_COSTS, 'crawl', 'fetch')).toBe(1);
  });

  it('reserves URLs × the page price of the engine the request will run on', () => {
    const route = budgetedRoute('POST', '/crawl')!;
    expect(
      chargeFor({
        route,
        body: { urls: ['a', 'b', 'c'], engine: 'browser' },
        originUrl: 'https://o',
        costs: DEFAULT_CREDIT_COSTS,
        maxUrls: 100,
      }),
    ).toMatchObject({ engine: 'browser', credits: 15 });
    expect(
      chargeFor({ route, body: { urls: ['a', 'b'] }, originUrl: 'https://o', costs: DEFAULT_CREDIT_COSTS, maxUrls: 100 }),
    ).toMatchObject({ engine: 'origin', credits: 2 });
    expect(
      chargeFor({
        route: budgetedRoute('POST', '/pdf')!,
        body: { url: 'a' },
        originUrl: undefined,
        costs: DEFAULT_CREDIT_COSTS,
        maxUrls: 100,
      }),
    ).toMatchObject({ engine: 'browser', credits: 5 });
    expect(budgetedRoute('GET', '/crawl')).toBeNull();
  });
});
