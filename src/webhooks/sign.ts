/**
 * Webhook signatures, shared by every module that calls back a client (jobs and exports):
 * HMAC-SHA-256 over `<timestamp>.<body>` (the Stripe / Standard Webhooks construction), sent as
 *
 *   X-Crawlgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, timestamp + "." + body)>
 *   X-Crawlgate-Timestamp: <unix seconds>   (the same t, for receivers that prefer a header)
 *
 * The timestamp inside the MAC lets a receiver refuse replays older than a tolerance; the body is
 * signed byte for byte as sent. Receivers compare in constant time (`verifyWebhookSignature`).
 */
import { toHex } from '../lib/encoding';

export const SIGNATURE_HEADER = 'X-Crawlgate-Signature';
export const TIMESTAMP_HEADER = 'X-Crawlgate-Timestamp';
/** Shortest accepted signing secret (RFC 2104 §3: at least the hash output length, 32 bytes). */
export const MIN_WEBHOOK_SECRET_LENGTH = 32;

const utf8 = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', utf8.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8.encode(message)));
  return toHex(mac);
}

/** The headers that sign `body` at `nowMs`. */
export async function signWebhook(secret: string, body: string, nowMs: number): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `t=${timestamp},v1=${await hmacHex(secret, `${timestamp}.${body}`)}` };
}

/** Pure: `t=<ts>,v1=<hex>` → its parts; null when malformed. */
export function parseSignatureHeader(value: string): { t: string; v1: string } | null {
  const parts = new Map<string, string>();
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) parts.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !v1 || !/^\d{1,12}$/.test(t) || !/^[0-9a-f]{64}$/.test(v1)) return null;
  return { t, v1 };
}

/**
 * Receiver side (and tests): true when the signature matches and its timestamp is within
 * `toleranceSeconds`. `timestamp`, when given, must equal the signature's `t`.
 */
export async function verifyWebhookSignature(
  secret: string,
  body: string,
  headers: { timestamp?: string | null; signature: string | null },
  nowMs: number,
  toleranceSeconds = 300,
): Promise<boolean> {
  const parsed = headers.signature ? parseSignatureHeader(headers.signature) : null;
  if (!parsed) return false;
  if (headers.timestamp != null && headers.timestamp !== parsed.t) return false;
  if (Math.abs(nowMs / 1000 - Number(parsed.t)) > toleranceSeconds) return false;
  const a = utf8.encode(await hmacHex(secret, `${parsed.t}.${body}`));
  const b = utf8.encode(parsed.v1);
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!; // constant time over equal lengths
  return diff === 0;
}
