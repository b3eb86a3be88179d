/**
 * Limits written like the seeds: "100/minute", "10/second", "5000/hour", "100000/day" (pure).
 * An optional burst (bucket capacity, like nginx `limit_req ... burst=`) may follow:
 * "10/second;burst=20". Without it the burst equals the limit.
 */
export interface RateLimitSpec {
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
  /** The text it was parsed from, normalised (e.g. "100/minute" or "10/second;burst=20"). */
  text: string;
  /** Bucket capacity: how many requests may arrive at once. Absent = `limit`. */
  burst?: number;
}

const UNITS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Parses "N/unit[;burst=B]" (unit: second|minute|hour|day, also "s", "m", "h", "d" and plurals). */
export function parseRateLimit(text: string): RateLimitSpec | null {
  const m = /^\s*(\d{1,9})\s*\/\s*(second|minute|hour|day|s|m|h|d)s?\s*(?:;\s*burst\s*=\s*(\d{1,9})\s*)?$/i.exec(text);
  if (!m) return null;
  const limit = Number(m[1]);
  if (limit < 1) return null;
  const short: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day' };
  const raw = (m[2] as string).toLowerCase();
  const unit = short[raw] ?? raw;
  const spec: RateLimitSpec = { limit, windowMs: UNITS[unit] as number, text: `${limit}/${unit}` };
  if (m[3] !== undefined) {
    const burst = Number(m[3]);
    if (burst < 1) return null;
    spec.burst = burst;
    spec.text += `;burst=${burst}`;
  }
  return spec;
}

/** The bucket capacity of a spec (its burst, else its limit). */
export function capacityOf(spec: RateLimitSpec): number {
  return spec.burst ?? spec.limit;
}
