/** Pure: audit events → 24 hourly buckets of allowed vs denied decisions, drawn as inline SVG. */

export interface Bucket {
  start: number;
  allowed: number;
  denied: number;
}

/** Buckets events from the last 24 h ending at `now` (hour-aligned). `success` = allowed; `denied`/`failure` = denied. */
export function bucketize(events: Array<{ ts: number; outcome: string }>, now: number): Bucket[] {
  const hour = 3_600_000;
  const end = Math.floor(now / hour) * hour + hour;
  const buckets: Bucket[] = Array.from({ length: 24 }, (_, i) => ({ start: end - (24 - i) * hour, allowed: 0, denied: 0 }));
  for (const e of events) {
    const i = Math.floor((e.ts - (end - 24 * hour)) / hour);
    const b = buckets[i];
    if (!b) continue;
    if (e.outcome === 'success') b.allowed += 1;
    else if (e.outcome === 'denied' || e.outcome === 'failure') b.denied += 1;
  }
  return buckets;
}

/** Two bars per hour (allowed green, denied red); no script, text labels for screen readers. */
export function Chart(props: { buckets: Bucket[] }) {
  const W = 720,
    H = 160,
    pad = 20;
  const max = Math.max(1, ...props.buckets.map((b) => Math.max(b.allowed, b.denied)));
  const slot = (W - pad) / props.buckets.length;
  const bw = slot / 2 - 1;
  const y = (v: number) => H - pad - (v / max) * (H - 2 * pad);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="Allowed and denied decisions per hour, last 24 hours">
      <text x="0" y="12">
        max {max}/h
      </text>
      {props.buckets.map((b, i) => (
        <g>
          <rect class="allowed" x={pad + i * slot} y={y(b.allowed)} width={bw} height={H - pad - y(b.allowed)}>
            <title>{`${new Date(b.start).toISOString().slice(11, 16)} allowed ${b.allowed}`}</title>
          </rect>
          <rect class="denied" x={pad + i * slot + bw + 1} y={y(b.denied)} width={bw} height={H - pad - y(b.denied)}>
            <title>{`${new Date(b.start).toISOString().slice(11, 16)} denied ${b.denied}`}</title>
          </rect>
          {i % 6 === 0 && (
            <text x={pad + i * slot} y={H - 4}>
              {new Date(b.start).toISOString().slice(11, 16)}
            </text>
          )}
        </g>
      ))}
    </svg>
  );
}
