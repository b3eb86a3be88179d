/**
 * Key digests: HMAC-SHA-256 (RFC 2104) of the key under the `API_KEY_SALT` pepper, hex-encoded.
 * A stolen D1 table or KV namespace is useless without the pepper, and the raw key is never
 * used as a storage key (STYLE.md anti-patterns). The CryptoKey is imported once per isolate.
 */

const imported = new Map<string, Promise<CryptoKey>>();

function hmacKey(pepper: string): Promise<CryptoKey> {
  let key = imported.get(pepper);
  if (!key) {
    // One pepper per deployment; the map only grows if the secret changes under a live isolate.
    if (imported.size > 4) imported.clear();
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(pepper), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    key.catch(() => imported.delete(pepper));
    imported.set(pepper, key);
  }
  return key;
}

/** The stored identity of a key: hex HMAC-SHA-256(pepper, key). */
export async function digestKey(pepper: string, key: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(pepper), new TextEncoder().encode(key));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
