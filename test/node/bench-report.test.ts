/**
 * The bench's verdicts (bench/report.mjs): a run that failed is never a figure, a collapsed round is
 * flagged, and the worst-round ratio pairs each round with the floor of the same round.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM bench script without type declarations
import { judgeRun, ratios, renderReport, summarize } from '../../bench/report.mjs';

interface Run {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  total: number;
  errors: number;
  non2xx: number;
  statuses: { '2xx': number; '4xx': number; '5xx': number };
  cpuMsPerReq: number;
  failed?: string;
  unexpected?: number;
}

const run = (rps: number, p50: number, extra: Partial<Run> = {}): Run => ({
  rps,
  p50,
  p95: p50 * 2,
  p99: p50 * 3,
  total: rps * 8,
  errors: 0,
  non2xx: 0,
  statuses: { '2xx': rps * 8, '4xx': 0, '5xx': 0 },
  cpuMsPerReq: 2,
  ...extra,
});

describe('bench report', () => {
  it('refuses runs with no answers, connection errors or unexpected statuses as figures', () => {
    expect(judgeRun(run(0, NaN, { total: 0 }), undefined, 8).failed).toBe('no responses');
    expect(judgeRun(run(100, 10, { errors: 20 }), undefined, 8).failed).toMatch(/connection errors/);
    expect(judgeRun(run(100, 10, { non2xx: 40 }), undefined, 8).failed).toMatch(/unexpected statuses/);
    // A 401 row expects 4xx: its 2xx answers are the unexpected ones.
    expect(judgeRun(run(100, 10, { statuses: { '2xx': 800, '4xx': 0, '5xx': 0 } }), 401, 8).failed).toMatch(/unexpected/);
    expect(judgeRun(run(100, 10, { statuses: { '2xx': 0, '4xx': 800, '5xx': 0 }, non2xx: 800 }), 401, 8).failed).toBeUndefined();
    expect(judgeRun(run(100, 10), undefined, 8).failed).toBeUndefined();
  });

  it('takes the median over measured rounds only, and flags a round over 2x the median p50', () => {
    const runs = [run(180, 100), judgeRun(run(0, NaN, { total: 0 }), undefined, 8), run(40, 600), run(170, 110)];
    const s = summarize(runs);
    expect(s.ok.map((r: Run & { round: number }) => r.round)).toEqual([1, 3, 4]);
    expect(s.rpsMedian).toBe(170);
    expect(s.rpsMin).toBe(40);
    expect(s.p50).toBe(110);
    expect(s.flagged).toEqual([3]);
    expect(s.failed).toEqual(['round 2: no responses']);
  });

  it('pairs each round with the floor of the same round for the worst-round ratio', () => {
    const floor = [run(200, 50), run(100, 100), run(200, 50)];
    const row = [run(120, 80), run(60, 160), run(40, 400)];
    const r = ratios(row, floor, summarize(row), summarize(floor));
    expect(r.median).toBeCloseTo(60 / 200);
    expect(r.worst).toBeCloseTo(0.2);
    expect(r.p50).toBeCloseTo(160 / 50);
  });

  it('writes "not measured" instead of a figure for a row with no measured round', () => {
    const targets = [
      { name: 'empty Worker, proxy (workerd port)', floor: 'direct', pids: () => [1] },
      { name: 'crawlgate /crawl, API key (workerd port)', vs: 'direct', pids: () => [1] },
    ];
    const failed = judgeRun(run(0, NaN, { total: 0 }), undefined, 8);
    const results = new Map([
      [targets[0]!.name, [run(200, 50), run(210, 50), run(190, 55)]],
      [targets[1]!.name, [failed, failed, failed]],
    ]);
    const md: string = renderReport({ targets, results, split: null, rounds: 3, duration: 8, connections: 32, inspector: false });
    expect(md).toContain('| crawlgate /crawl, API key (workerd port) | not measured |');
    expect(md).not.toMatch(/API key \(workerd port\) \| 0 \|/);
    expect(md).toContain('no round measured: **not met**');
  });
});
