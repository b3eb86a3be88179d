/**
 * Repeated denials from one client are folded into one audit row per window (per isolate): a
 * flood of refused or unauthenticated requests must not become a flood of rows through the single
 * audit writer, delaying everyone's security events (and growing its buffer without bound). The
 * first denial of a window is written; the next row for the same client and reason carries
 * `suppressed`, how many denials it stood for since the previous row. Metrics count every denial.
 */
export const DENIAL_AUDIT_WINDOW_MS = 10_000;
const MAX_TRACKED = 10_000;
const windows = new Map<string, { until: number; suppressed: number }>();

/** Whether the denial identified by `key` should be written now, and how many it stands for. */
export function denialAuditDecision(key: string, now: number): { write: boolean; suppressed: number } {
  const w = windows.get(key);
  if (w && w.until > now) {
    w.suppressed++;
    return { write: false, suppressed: 0 };
  }
  if (windows.size >= MAX_TRACKED) windows.clear();
  windows.set(key, { until: now + DENIAL_AUDIT_WINDOW_MS, suppressed: 0 });
  return { write: true, suppressed: w?.suppressed ?? 0 };
}
