/**
 * Webhook signing secrets at rest. A job's webhook fires minutes or hours after the request that
 * named it, in another isolate, so its secret must be stored — never in clear (SECURITY.md): it is
 * sealed with AES-256-GCM (NIST SP 800-38D) under a key derived from JWT_SECRET_KEY by HKDF-SHA-256
 * (RFC 5869, its own `info` label), with the owner's id (the job id) as associated data so a sealed
 * value cannot be moved to another job. Rotating JWT_SECRET_KEY makes pending secrets unreadable:
 * those deliveries are recorded as `failed:secret_unavailable` (fail closed, never unsigned).
 */
import { fromBase64, toBase64 } from '../lib/encoding';

const enc = new TextEncoder();
const dec = new TextDecoder();
const keys = new Map<string, Promise<CryptoKey>>();

function boxKey(master: string): Promise<CryptoKey> {
  let key = keys.get(master);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey('raw', enc.encode(master), 'HKDF', false, ['deriveKey']);
      return crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: enc.encode('crawlgate-webhooks'), info: enc.encode('webhook-secret-v1') },
        ikm,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      );
    })();
    keys.clear(); // one master secret in use at a time
    keys.set(master, key);
  }
  return key;
}

/** Seals `secret` for `owner`: base64(iv ‖ ciphertext+tag). */
export async function sealSecret(master: string, owner: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(owner) }, await boxKey(master), enc.encode(secret)),
  );
  const out = new Uint8Array(12 + ct.length);
  out.set(iv);
  out.set(ct, 12);
  return toBase64(out);
}

/** Opens a sealed secret; null when it was sealed under another key or for another owner, or altered. */
export async function openSecret(master: string, owner: string, sealed: string): Promise<string | null> {
  try {
    const raw = fromBase64(sealed);
    if (raw === null || raw.length < 12 + 16) return null;
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: raw.slice(0, 12), additionalData: enc.encode(owner) },
      await boxKey(master),
      raw.slice(12),
    );
    return dec.decode(pt);
  } catch {
    return null;
  }
}
