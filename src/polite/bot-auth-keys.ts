/**
 * `WEB_BOT_AUTH_KEYS`: the Ed25519 private keys (JWK, RFC 8037) that sign outgoing crawl requests
 * (Web Bot Auth: draft-meunier-web-bot-auth-architecture, over RFC 9421). A JSON array; the first
 * key signs, every key is published in the directory, so a rotation is: prepend the new key,
 * wait for verifiers to refresh the directory, drop the old one. Pure: no crypto here.
 */

/** One private key as configured (only the members a signer needs are kept). */
export interface BotAuthKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Parses the secret; the answer is the keys or a message naming what is wrong (never a key). */
export function parseBotAuthKeys(raw: string | undefined): BotAuthKey[] | string {
  if (raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return 'is not valid JSON (a JSON array of Ed25519 private JWKs; `npm run secrets` makes one)';
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return 'must be a non-empty JSON array of Ed25519 private JWKs';
  if (parsed.length > 10) return 'holds more than 10 keys';
  const keys: BotAuthKey[] = [];
  for (const [i, k] of parsed.entries()) {
    const jwk = k as Record<string, unknown> | null;
    if (!jwk || typeof jwk !== 'object' || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')
      return `entry ${i} is not an Ed25519 JWK (kty "OKP", crv "Ed25519")`;
    // RFC 8037 §2: x and d are the 32-byte public and private keys, base64url without padding (43 chars).
    if (typeof jwk.x !== 'string' || jwk.x.length !== 43 || !B64URL.test(jwk.x)) return `entry ${i} has no valid public key "x"`;
    if (typeof jwk.d !== 'string' || jwk.d.length !== 43 || !B64URL.test(jwk.d)) return `entry ${i} has no valid private key "d"`;
    keys.push({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d });
  }
  if (new Set(keys.map((k) => k.x)).size !== keys.length) return 'lists the same key twice';
  return keys;
}

/** The public half of a key, as published in the directory. */
export function publicJwk(key: BotAuthKey): { kty: 'OKP'; crv: 'Ed25519'; x: string } {
  return { kty: key.kty, crv: key.crv, x: key.x };
}
