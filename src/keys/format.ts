/**
 * The API-key format (pure, no I/O): `cg_live_<30 base62>_<6 base62 CRC32>` (or `cg_test_`).
 * Modelled on GitHub's token format: a recognisable prefix lets secret scanners find leaked keys,
 * and the CRC32 checksum lets a typo or a made-up key fail before any storage read.
 * 30 base62 characters carry log2(62^30) ≈ 178 bits of randomness (SECURITY.md asks for ≥ 128).
 * The checksum is not a security control (anyone can compute it); it only saves storage reads.
 */

export const KEY_ENVIRONMENTS = ['live', 'test'] as const;
export type KeyEnvironment = (typeof KEY_ENVIRONMENTS)[number];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const RANDOM_LENGTH = 30;
export const CHECKSUM_LENGTH = 6;
/** Characters of a generated key kept for display (`cg_live_AbCd`): 4 random chars, ≈ 24 bits. */
export const DISPLAY_PREFIX_LENGTH = 12;

const KEY_PATTERN = new RegExp(`^cg_(live|test)_([0-9A-Za-z]{${RANDOM_LENGTH}})_([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, the zlib polynomial) of the UTF-8 bytes of `text`. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Fixed-width base62 of an unsigned 32-bit number (62^6 > 2^32). */
export function base62Fixed(value: number, width: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

function checksumOf(body: string): string {
  return base62Fixed(crc32(body), CHECKSUM_LENGTH);
}

/** A new secret key. Shown to its owner once; only its digest is stored. */
export function generateApiKey(environment: KeyEnvironment = 'live'): string {
  const body = `cg_${environment}_${randomBase62(RANDOM_LENGTH)}`;
  return `${body}_${checksumOf(body)}`;
}

/** A public, non-secret id for a key record (`key_` + 16 base62). */
export function generateKeyId(): string {
  return `key_${randomBase62(16)}`;
}

export type KeyFormatCheck =
  | { kind: 'generated'; environment: KeyEnvironment }
  /** Not a crawlgate key: may be a seed (`API_KEYS`) key, which is checked in memory only. */
  | { kind: 'foreign' }
  | { kind: 'invalid'; reason: 'malformed_key' | 'bad_checksum' };

/** Pure: classifies a presented key without touching storage. */
export function checkKeyFormat(key: string): KeyFormatCheck {
  if (!key.startsWith('cg_')) return { kind: 'foreign' };
  const m = KEY_PATTERN.exec(key);
  if (!m) return { kind: 'invalid', reason: 'malformed_key' };
  const body = key.slice(0, key.length - CHECKSUM_LENGTH - 1);
  if (checksumOf(body) !== m[3]) return { kind: 'invalid', reason: 'bad_checksum' };
  return { kind: 'generated', environment: m[1] as KeyEnvironment };
}

/** The short display prefix stored with a key; never enough of the secret to matter. */
export function displayPrefix(key: string): string {
  if (key.startsWith('cg_')) return key.slice(0, DISPLAY_PREFIX_LENGTH);
  // Seed keys (`sk-prod-...`) have unknown length: show at most a quarter of them, ≤ 8 chars.
  return key.slice(0, Math.min(8, Math.floor(key.length / 4)));
}
