/**
 * CIDR allow-lists for IPv4 and IPv6 (pure). Addresses are compared as 128-bit BigInts;
 * IPv4 (and IPv4-mapped IPv6, `::ffff:a.b.c.d`) live in the mapped range so a v4 rule matches both forms.
 */
export interface Cidr {
  /** Network address as a 128-bit value (IPv4 mapped into ::ffff:0:0/96). */
  network: bigint;
  /** Prefix length in the 128-bit space. */
  prefix: number;
  text: string;
}

const V4_MAPPED = 0xffffn << 32n;

/** Parses dotted-quad IPv4 (strict: four decimal parts 0-255, no leading zeros). */
export function parseIPv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Parses an IPv6 address (with `::` compression and an optional trailing dotted IPv4). */
export function parseIPv6(text: string): bigint | null {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let tailV4: bigint | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (tailV4 === null) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (halves.length === 2 ? groups < 1 : head.length !== 8) return null;
  const all = [...head, ...Array<string>(groups).fill('0'), ...tail];
  let value = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** Any textual IP → 128-bit value (IPv4 mapped), or null. */
export function parseIp(text: string): bigint | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return V4_MAPPED | v4;
  return parseIPv6(text);
}

/** Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a /32 or /128). Throws with a readable message. */
export function parseCidr(text: string): Cidr {
  const [addr = '', len] = text.trim().split('/');
  const v4 = parseIPv4(addr);
  const v6 = v4 === null ? parseIPv6(addr) : null;
  if (v4 === null && v6 === null) throw new Error(`"${text}" is not an IPv4 or IPv6 CIDR`);
  const max = v4 !== null ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max || (len !== undefined && !/^\d{1,3}$/.test(len))) {
    throw new Error(`"${text}" has a prefix length outside 0-${max}`);
  }
  const prefix = v4 !== null ? 96 + n : n;
  const value = v4 !== null ? V4_MAPPED | v4 : (v6 as bigint);
  return { network: value & mask(prefix), prefix, text: text.trim() };
}

/** Comma-separated CIDRs; the empty string is the empty list. */
export function parseCidrList(text: string): Cidr[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseCidr);
}

function mask(prefix: number): bigint {
  if (prefix === 0) return 0n;
  return ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
}

/** True when `ip` (text) lies in one of `cidrs`. Unparseable or missing IPs never match. */
export function ipInCidrs(ip: string | null | undefined, cidrs: readonly Cidr[]): boolean {
  if (!ip) return false;
  const value = parseIp(ip);
  if (value === null) return false;
  return cidrs.some((c) => (value & mask(c.prefix)) === c.network);
}
