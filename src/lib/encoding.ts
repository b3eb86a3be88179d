/**
 * Byte and text encodings, one copy for the whole gateway: hex (digests, MACs, ids), base64
 * (RFC 4648 §4: sealed webhook secrets, binary results) and base64url without padding (§5: tokens,
 * cursors, sealed cookies). Pure; decoders return null on input that is not theirs instead of throwing.
 */
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Lower-case hex of the bytes. */
export function toHex(bytes: Uint8Array | ArrayBuffer): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (const x of b) out += x.toString(16).padStart(2, '0');
  return out;
}

/** base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array | ArrayBuffer): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** The bytes of a base64 string; null when it is not base64. */
export function fromBase64(value: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/** base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array | ArrayBuffer): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The bytes of a base64url string (padding optional); null when it is not base64. */
export function fromBase64Url(value: string): Uint8Array | null {
  return fromBase64(value.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (value.length % 4)) % 4));
}

/** base64url of a string's UTF-8 bytes. */
export function textToBase64Url(text: string): string {
  return toBase64Url(utf8.encode(text));
}

/** The text a `textToBase64Url` value holds; null when it is not base64. */
export function textFromBase64Url(value: string): string | null {
  const bytes = fromBase64Url(value);
  return bytes === null ? null : utf8Decoder.decode(bytes);
}
