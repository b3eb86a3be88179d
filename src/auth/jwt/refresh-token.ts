/**
 * Opaque refresh tokens: `cgrt.<family id: 32 hex>.<family tag: 22 base64url>.<secret: 256 random
 * bits, base64url>`.
 *  - The family id routes the token to its RefreshFamily Durable Object; only SHA-256 of the whole
 *    token is stored (it holds 256 random bits, so no pepper or slow hash is needed).
 *  - The family tag is HMAC-SHA-256 over the family id (first 128 bits) under a key derived from
 *    JWT_SECRET_KEY with HKDF (RFC 5869) and its own label, so it is never the signing key itself.
 *    Only the gateway can make one; a token whose tag does not verify is refused in constant time
 *    **before any Durable Object is addressed**, so forged tokens create no storage. Old HS256
 *    secrets (JWT_PREVIOUS_SECRET_KEYS) still verify tags, like they still verify access tokens.
 *  - The `cgrt.` prefix lets leaked-token scanners and the access-token verifier recognise it
 *    (RFC 8725 §3.11: a refresh token presented as an access token is refused).
 * Tokens of the earlier three-part format (no tag) no longer parse: their holders sign in again.
 */
import type { Config } from '../../config';
import { constantTimeEqual } from '../../lib/constant-time';
import { toBase64Url, toHex } from '../../lib/encoding';

const FORMAT = /^cgrt\.([0-9a-f]{32})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
/** HKDF `info`: binds the derived key to this one use (RFC 5869 §3.2). */
const TAG_LABEL = 'crawlgate refresh-token family tag v1';
const TAG_BYTES = 16;

/** The tag keys a config holds: the current secret's first (it tags new families), then older ones. */
export type TagKeys = readonly CryptoKey[];

async function deriveTagKey(secret: string): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: new TextEncoder().encode(TAG_LABEL) },
    ikm,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign'],
  );
}

const derived = new WeakMap<Config, Promise<TagKeys>>();

/** The tag keys for a parsed config, derived once per isolate and config. */
export function refreshTagKeys(config: Pick<Config, 'JWT_SECRET_KEY' | 'JWT_PREVIOUS_SECRET_KEYS'>): Promise<TagKeys> {
  const cfg = config as Config;
  let keys = derived.get(cfg);
  if (!keys) {
    keys = Promise.all([config.JWT_SECRET_KEY, ...config.JWT_PREVIOUS_SECRET_KEYS].map(deriveTagKey));
    keys.catch(() => derived.delete(cfg));
    derived.set(cfg, keys);
  }
  return keys;
}

async function tagOf(key: CryptoKey, familyId: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`family:${familyId}`));
  return toBase64Url(new Uint8Array(mac).slice(0, TAG_BYTES));
}

export function looksLikeRefreshToken(value: string): boolean {
  return value.startsWith('cgrt.');
}

export function newFamilyId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

export async function hashRefreshToken(token: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));
}

/** A fresh token in `familyId` (tagged with the current key) and its stored hash. */
export async function newRefreshToken(keys: TagKeys, familyId: string): Promise<{ token: string; hash: string }> {
  const tag = await tagOf(keys[0] as CryptoKey, familyId);
  const token = `cgrt.${familyId}.${tag}.${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { token, hash: await hashRefreshToken(token) };
}

/**
 * Splits a presented token; null when it is not one the gateway issued (shape or family tag), which
 * is decided without any storage access. Every held key is tried (no early exit).
 */
export async function parseRefreshToken(keys: TagKeys, token: string): Promise<{ familyId: string; hash: string } | null> {
  const m = FORMAT.exec(token);
  if (!m) return null;
  const familyId = m[1] as string;
  let valid = false;
  for (const key of keys) if (constantTimeEqual(await tagOf(key, familyId), m[2] as string)) valid = true;
  if (!valid) return null;
  return { familyId, hash: await hashRefreshToken(token) };
}
