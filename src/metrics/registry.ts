/**
 * Metric definitions and the Prometheus text renderer (pure). Every metric is stored as
 * flat counter series (`name{labels}` → value); a histogram is its `_bucket`, `_sum`, `_count` series.
 */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000] as const;

export const METRIC_HELP: Record<string, { type: 'counter' | 'histogram'; help: string }> = {
  crawlgate_http_requests_total: { type: 'counter', help: 'HTTP requests by route template, method and status.' },
  crawlgate_http_request_duration_ms: { type: 'histogram', help: 'Time to response headers, in milliseconds.' },
  crawlgate_auth_failures_total: { type: 'counter', help: 'Failed authentications by reason.' },
  crawlgate_rate_limit_rejections_total: { type: 'counter', help: 'Requests refused by a rate or concurrency limit, by dimension.' },
  crawlgate_audit_write_failures_total: { type: 'counter', help: 'Audit batches that could not be written to D1 on the first try.' },
  crawlgate_job_pages_total: { type: 'counter', help: 'Crawl-job page attempts by engine and outcome (done, failed, retry).' },
};

export type Series = Record<string, number>;

/** `name{a="x",b="y"}` with label values escaped per the exposition format. */
export function seriesKey(name: string, labels: Record<string, string | number> = {}): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

/** The series keys of one latency histogram: a bucket per bound, then `+Inf`, `_sum` and `_count`. */
export interface LatencyKeys {
  buckets: string[];
  inf: string;
  sum: string;
  count: string;
}

/** Builds the histogram's series keys for a label set (the recorder keeps them per route). */
export function latencyKeys(labels: Record<string, string>): LatencyKeys {
  const name = 'crawlgate_http_request_duration_ms';
  return {
    buckets: LATENCY_BUCKETS_MS.map((le) => seriesKey(`${name}_bucket`, { ...labels, le })),
    inf: seriesKey(`${name}_bucket`, { ...labels, le: '+Inf' }),
    sum: seriesKey(`${name}_sum`, labels),
    count: seriesKey(`${name}_count`, labels),
  };
}

/** Adds one latency observation to `into` as histogram series. */
export function observeLatency(into: Series, labels: Record<string, string>, ms: number): void {
  observeLatencyAt(into, latencyKeys(labels), ms);
}

/** The same, with the histogram's keys already built. */
export function observeLatencyAt(into: Series, keys: LatencyKeys, ms: number): void {
  LATENCY_BUCKETS_MS.forEach((le, i) => {
    if (ms <= le) add(into, keys.buckets[i] as string, 1);
  });
  add(into, keys.inf, 1);
  add(into, keys.sum, ms);
  add(into, keys.count, 1);
}

export function add(into: Series, key: string, delta: number): void {
  into[key] = (into[key] ?? 0) + delta;
}

function baseName(key: string): string {
  const name = key.split('{')[0] as string;
  return name.replace(/_(bucket|sum|count)$/, (m) => (METRIC_HELP[name.slice(0, -m.length)] ? '' : m));
}

/** Renders series as Prometheus text format 0.0.4, with HELP/TYPE once per metric. */
export function renderPrometheus(series: Series): string {
  const byMetric = new Map<string, string[]>();
  for (const key of Object.keys(series).sort()) {
    const base = baseName(key);
    const lines = byMetric.get(base) ?? [];
    lines.push(`${key} ${formatNumber(series[key] as number)}`);
    byMetric.set(base, lines);
  }
  for (const name of Object.keys(METRIC_HELP)) if (!byMetric.has(name)) byMetric.set(name, []);
  const out: string[] = [];
  for (const [name, lines] of [...byMetric.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const meta = METRIC_HELP[name];
    if (meta) out.push(`# HELP ${name} ${meta.help}`, `# TYPE ${name} ${meta.type}`);
    out.push(...lines);
  }
  return out.join('\n') + '\n';
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}
