/**
 * `Mcp-Session-Id` values (MCP Streamable HTTP "Session management") that need no storage: a random
 * id plus an HMAC-SHA-256 (RFC 2104) over it and the tenant that opened it, under a key derived
 * from JWT_SECRET_KEY by HKDF (RFC 5869). Any isolate can check one without a read, and another
 * tenant's id — or a made-up one — is refused (404, the spec's "session not found"), so a session
 * id is never a capability on its own: every request still carries the caller's credential.
 */
const enc = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function macKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey('raw', enc.encode(secret), 'HKDF', false, ['deriveKey']);
      const params = { name: 'HKDF', hash: 'SHA-256', salt: enc.encode('crawlgate-mcp'), info: enc.encode('mcp-session-v1') };
      return crypto.subtle.deriveKey(params, ikm, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign', 'verify']);
    })();
    if (keys.size > 8) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(s: string): Uint8Array<ArrayBuffer> | null {
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Visible ASCII only, as the spec requires of session ids. */
const SESSION_ID = /^mcs_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** A new session id bound to `tenant`. */
export async function newSessionId(secret: string, tenant: string): Promise<string> {
  const id = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await macKey(secret), enc.encode(`${id}|${tenant}`)));
  return `mcs_${id}.${b64url(mac)}`;
}

/** True when `value` is a session id this gateway issued to `tenant` (constant-time MAC check). */
export async function sessionBelongsTo(secret: string, tenant: string, value: string | undefined | null): Promise<boolean> {
  const m = value ? SESSION_ID.exec(value) : null;
  if (!m) return false;
  const mac = unb64url(m[2] as string);
  if (!mac || mac.byteLength !== 32) return false;
  return crypto.subtle.verify('HMAC', await macKey(secret), mac, enc.encode(`${m[1]}|${tenant}`));
}
