/**
 * Progress, throughput and ETA of a job (pure). The ETA uses the rate over the recent window
 * (pages finished in the last `windowMs`) when there is one, else the rate since the job started,
 * so it follows a job that speeds up or slows down instead of averaging its whole history.
 */
export interface ProgressInput {
  total: number;
  done: number;
  failed: number;
  /** Active running time so far (pauses excluded), ms. */
  activeMs: number;
  /** Pages finished within the last `windowMs`. */
  recentFinished: number;
  windowMs: number;
}

export interface Progress {
  percent: number;
  pages_per_second: number | null;
  eta_seconds: number | null;
}

export function computeProgress(p: ProgressInput): Progress {
  const finished = p.done + p.failed;
  const percent = p.total === 0 ? 100 : Math.round((finished / p.total) * 1000) / 10;
  const overall = p.activeMs > 0 ? finished / (p.activeMs / 1000) : 0;
  const window = Math.min(p.windowMs, p.activeMs);
  const recent = window > 0 && p.recentFinished > 0 ? p.recentFinished / (window / 1000) : 0;
  const rate = recent > 0 ? recent : overall;
  const remaining = p.total - finished;
  return {
    percent,
    pages_per_second: overall > 0 ? Math.round(overall * 100) / 100 : null,
    eta_seconds: remaining === 0 ? 0 : rate > 0 ? Math.round((remaining / rate) * 10) / 10 : null,
  };
}

/** The q-quantile (0..1) of ascending-sorted values, nearest-rank; null when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}
