/**
 * Webhook signatures, shared by every module that calls back a client (exports now; jobs can use
 * the same): HMAC-SHA-256 over `<timestamp>.<body>` (the Stripe / Standard Webhooks construction),
 * sent as
 *
 *   X-Crawlgate-Timestamp: <unix seconds>
 *   X-Crawlgate-Signature: v1=<hex HMAC-SHA-256(secret, timestamp + "." + body)>
 *
 * The timestamp inside the MAC lets a receiver refuse replays older than a tolerance; the body is
 * signed byte for byte as sent. Receivers compare in constant time (`verifyWebhookSignature`).
 */
export const SIGNATURE_HEADER = 'X-Crawlgate-Signature';
export const TIMESTAMP_HEADER = 'X-Crawlgate-Timestamp';
/** Shortest accepted signing secret (RFC 2104 §3: at least the hash output length, 32 bytes). */
export const MIN_WEBHOOK_SECRET_LENGTH = 32;

const utf8 = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', utf8.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8.encode(message)));
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The headers that sign `body` at `nowMs`. */
export async function signWebhook(secret: string, body: string, nowMs: number): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `v1=${await hmacHex(secret, `${timestamp}.${body}`)}` };
}

/** Receiver side (and tests): true when the signature matches and the timestamp is within `toleranceSeconds`. */
export async function verifyWebhookSignature(
  secret: string,
  body: string,
  headers: { timestamp: string | null; signature: string | null },
  nowMs: number,
  toleranceSeconds = 300,
): Promise<boolean> {
  if (!headers.timestamp || !headers.signature || !/^\d{1,12}$/.test(headers.timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(headers.timestamp)) > toleranceSeconds) return false;
  const expected = `v1=${await hmacHex(secret, `${headers.timestamp}.${body}`)}`;
  const a = utf8.encode(expected);
  const b = utf8.encode(headers.signature);
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!; // constant time over equal lengths
  return diff === 0;
}
