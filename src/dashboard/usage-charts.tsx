/**
 * Per-key and per-user usage charts (docs/metering.md), server-rendered SVG like the overview chart
 * (src/dashboard/chart.tsx): credits per day, pages by engine (stacked), error rate and browser time.
 * No script; each bar carries a `<title>` ("2026-11-30 credits 12") that screen readers and tests read.
 */

/** One day as GET …/usage returns it (`daily`). */
export interface UsageDay {
  day: string;
  requests: number;
  pages: number;
  errors: number;
  credits: number;
  browser_ms: number;
  by_engine: Record<string, number>;
}

const DAY = 86_400_000;
export const ENGINES = ['fetch', 'browser', 'origin'] as const;

/** Pure: `days` consecutive UTC days ending today, the missing ones empty. */
export function fillDays(daily: UsageDay[], days: number, now: number): UsageDay[] {
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const today = Math.floor(now / DAY) * DAY;
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(today - (days - 1 - i) * DAY).toISOString().slice(0, 10);
    return byDay.get(day) ?? { day, requests: 0, pages: 0, errors: 0, credits: 0, browser_ms: 0, by_engine: {} };
  });
}

const round = (n: number) => Math.round(n * 100) / 100;

interface Series {
  label: string;
  cls: string;
  values: number[];
}

/** Stacked bars per day; `unit` labels the scale. */
function Bars(props: { id: string; label: string; days: UsageDay[]; series: Series[]; unit: string }) {
  const W = 720,
    H = 160,
    pad = 20;
  const totals = props.days.map((_, i) => props.series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const max = Math.max(1e-9, ...totals);
  const slot = (W - pad) / Math.max(1, props.days.length);
  const bw = Math.max(2, slot - 2);
  const h = (v: number) => (v / max) * (H - 2 * pad);
  return (
    <svg id={props.id} viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={props.label}>
      <text x="0" y="12">
        max {round(Math.max(0, ...totals))} {props.unit}
      </text>
      {props.days.map((d, i) => {
        let base = H - pad;
        return (
          <g>
            {props.series.map((s) => {
              const v = s.values[i] ?? 0;
              const hh = h(v);
              base -= hh;
              return (
                <rect class={s.cls} x={pad + i * slot} y={base} width={bw} height={hh}>
                  <title>{`${d.day} ${s.label} ${round(v)}`}</title>
                </rect>
              );
            })}
            {i % 7 === 0 && (
              <text x={pad + i * slot} y={H - 4}>
                {d.day.slice(5)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** The four charts of one principal's usage. */
export function UsageCharts(props: { days: UsageDay[] }) {
  const d = props.days;
  return (
    <>
      <h2>Credits per day</h2>
      <Bars
        id="chart-credits"
        label="Credits charged per day"
        days={d}
        unit="credits/day"
        series={[{ label: 'credits', cls: 'allowed', values: d.map((x) => x.credits) }]}
      />
      <h2>Pages by engine</h2>
      <p>
        {ENGINES.map((e) => (
          <>
            <span class={`eng-${e}`}>■</span> {e}{' '}
          </>
        ))}
      </p>
      <Bars
        id="chart-pages"
        label="Pages crawled per day by engine"
        days={d}
        unit="pages/day"
        series={ENGINES.map((e) => ({ label: `${e} pages`, cls: `eng-${e}`, values: d.map((x) => x.by_engine[e] ?? 0) }))}
      />
      <h2>Error rate</h2>
      <Bars
        id="chart-errors"
        label="Share of requests that failed, per day"
        days={d}
        unit="% errors"
        series={[{ label: 'error rate %', cls: 'denied', values: d.map((x) => (x.requests > 0 ? (100 * x.errors) / x.requests : 0)) }]}
      />
      <h2>Browser time</h2>
      <Bars
        id="chart-browser"
        label="Browser seconds per day"
        days={d}
        unit="s/day"
        series={[{ label: 'browser s', cls: 'eng-browser', values: d.map((x) => x.browser_ms / 1000) }]}
      />
    </>
  );
}
