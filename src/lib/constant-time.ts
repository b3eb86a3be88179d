/** Constant-time comparison, one copy for every secret check (API-key digests, refresh-token tags). */

/** Compares two strings in time that depends only on their lengths (no early exit on a mismatch). */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
