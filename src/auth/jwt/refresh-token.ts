/**
 * Opaque refresh tokens: `cgrt.<family id: 32 hex>.<secret: 256 random bits, base64url>`.
 * The family id routes the token to its RefreshFamily Durable Object; only SHA-256 of the whole
 * token is stored (it is 256 random bits, so no pepper or slow hash is needed). The `cgrt.` prefix
 * lets leaked-token scanners and the access-token verifier recognise it (RFC 8725 §3.11: a refresh
 * token presented as an access token is refused).
 */
const FORMAT = /^cgrt\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const b64url = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export function looksLikeRefreshToken(value: string): boolean {
  return value.startsWith('cgrt.');
}

export function newFamilyId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

export async function hashRefreshToken(token: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));
}

/** A fresh token in `familyId` and its stored hash. */
export async function newRefreshToken(familyId: string): Promise<{ token: string; hash: string }> {
  const token = `cgrt.${familyId}.${b64url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { token, hash: await hashRefreshToken(token) };
}

/** Splits a presented token; null when it is not one of ours (checked before any storage access). */
export async function parseRefreshToken(token: string): Promise<{ familyId: string; hash: string } | null> {
  const m = FORMAT.exec(token);
  if (!m) return null;
  return { familyId: m[1] as string, hash: await hashRefreshToken(token) };
}
