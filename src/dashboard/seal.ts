/**
 * The dashboard session cookie: {access, refresh, nonce} sealed with AES-256-GCM (NIST SP 800-38D)
 * under a key derived from JWT_SECRET_KEY by HKDF-SHA-256 (RFC 5869), so the tokens are unreadable
 * and unforgeable in the browser. CSRF tokens are HMAC-SHA-256 (RFC 2104) of the session's random
 * nonce under a second HKDF-derived key, compared in constant time.
 */
import { fromBase64Url, toBase64Url } from '../lib/encoding';

/** What the sealed cookie holds. */
export interface SessionData {
  access: string;
  refresh: string;
  /** Random per-session value the CSRF token is bound to. */
  nonce: string;
}

export const SESSION_COOKIE = '__Host-cg_session';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function hkdfKey(secret: string, info: string, usage: 'seal' | 'mac'): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', enc.encode(secret), 'HKDF', false, ['deriveKey']);
  const params = { name: 'HKDF', hash: 'SHA-256', salt: enc.encode('crawlgate-dashboard'), info: enc.encode(info) };
  return usage === 'seal'
    ? crypto.subtle.deriveKey(params, ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
    : crypto.subtle.deriveKey(params, ikm, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']);
}

/** Seals a session into an opaque cookie value: base64url(iv ‖ ciphertext+tag). */
export async function sealSession(secret: string, data: SessionData): Promise<string> {
  const key = await hkdfKey(secret, 'session-seal-v1', 'seal');
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(SESSION_COOKIE) }, key, enc.encode(JSON.stringify(data))),
  );
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv);
  out.set(ct, iv.length);
  return toBase64Url(out);
}

/** Opens a sealed cookie; null when it is missing, tampered with or sealed under another key (fail closed). */
export async function openSession(secret: string, value: string | undefined): Promise<SessionData | null> {
  if (!value || value.length > 8192) return null;
  const raw = fromBase64Url(value);
  if (!raw || raw.length < 12 + 16) return null;
  try {
    const key = await hkdfKey(secret, 'session-seal-v1', 'seal');
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: raw.slice(0, 12), additionalData: enc.encode(SESSION_COOKIE) },
      key,
      raw.slice(12),
    );
    const data = JSON.parse(dec.decode(pt)) as Partial<SessionData>;
    if (typeof data.access !== 'string' || typeof data.refresh !== 'string' || typeof data.nonce !== 'string') return null;
    return { access: data.access, refresh: data.refresh, nonce: data.nonce };
  } catch {
    return null;
  }
}

/** A fresh random nonce for a new session. */
export function newNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

/** The CSRF token for a session: HMAC(key, nonce), base64url. */
export async function csrfToken(secret: string, nonce: string): Promise<string> {
  const key = await hkdfKey(secret, 'csrf-v1', 'mac');
  return toBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(nonce))));
}

/** Constant-time check of a submitted CSRF token against the session's expected one. */
export async function checkCsrf(secret: string, nonce: string, submitted: string | undefined): Promise<boolean> {
  if (!submitted) return false;
  const expected = enc.encode(await csrfToken(secret, nonce));
  const got = enc.encode(submitted);
  if (got.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= (expected[i] ?? 0) ^ (got[i] ?? 0);
  return diff === 0;
}
