/**
 * Address ranges a crawl may never target (pure). Sources: RFC 6890 (special-purpose registries),
 * RFC 1918 (private), RFC 6598 (CGNAT 100.64/10), RFC 3927 / RFC 4291 §2.5.6 (link-local),
 * RFC 4193 (ULA fc00::/7), RFC 6052 / RFC 8215 (NAT64), RFC 3056 (6to4), RFC 4380 (Teredo),
 * RFC 4291 §2.5.5 (IPv4-compatible / -mapped IPv6).
 */
import { parseCidr, parseIPv4, parseIPv6, type Cidr } from '../http/cidr';

const V4_MAPPED = 0xffffn << 32n;

/** IPv4 ranges (stored in the ::ffff:0:0/96 space, as `parseCidr` maps them). */
const BLOCKED_V4: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0/8', 'this-network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved (and broadcast)'],
];

/** IPv6 ranges refused outright. Embedded-IPv4 ranges (NAT64, 6to4) are handled separately. */
const BLOCKED_V6: ReadonlyArray<readonly [string, string]> = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', 'IPv4-mapped'],
  ['::/96', 'IPv4-compatible'],
  ['::ffff:0:0:0/96', 'IPv4-translated'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard-only'],
  ['2001::/32', 'Teredo tunnel'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:10::/28', 'ORCHID'],
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'unique-local (incl. fd00:ec2::254 metadata)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];

interface Range {
  cidr: Cidr;
  label: string;
}

const toRanges = (list: ReadonlyArray<readonly [string, string]>): Range[] => list.map(([c, label]) => ({ cidr: parseCidr(c), label }));
const V4_RANGES = toRanges(BLOCKED_V4);
const V6_RANGES = toRanges(BLOCKED_V6);
const NAT64 = parseCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseCidr('2002::/16');

function mask(prefix: number): bigint {
  return prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
}

function inCidr(value: bigint, c: Cidr): boolean {
  return (value & mask(c.prefix)) === c.network;
}

function v4Text(v4: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v4 >> s) & 0xffn)).join('.');
}

/** Why an IPv4 address (32-bit value) is refused, or null when it is a public address. */
export function blockedIPv4(v4: bigint): string | null {
  const mapped = V4_MAPPED | v4;
  return V4_RANGES.find((r) => inCidr(mapped, r.cidr))?.label ?? null;
}

/** Why an IPv6 address (128-bit value) is refused, or null when it is a public address. */
export function blockedIPv6(v6: bigint): string | null {
  const direct = V6_RANGES.find((r) => inCidr(v6, r.cidr));
  if (direct) return direct.label;
  // RFC 6052: 64:ff9b::/96 carries the IPv4 address in its last 32 bits.
  if (inCidr(v6, NAT64)) {
    const v4 = v6 & 0xffffffffn;
    const why = blockedIPv4(v4);
    return why ? `NAT64 of ${v4Text(v4)} (${why})` : null;
  }
  // RFC 3056: 2002:AABB:CCDD::/48 carries the IPv4 address AA.BB.CC.DD in bits 16-47.
  if (inCidr(v6, SIX_TO_FOUR)) {
    const v4 = (v6 >> 80n) & 0xffffffffn;
    const why = blockedIPv4(v4);
    return why ? `6to4 of ${v4Text(v4)} (${why})` : null;
  }
  return null;
}

/**
 * Classifies a WHATWG-parsed hostname: `{ ip: true, blocked }` for IP literals (IPv6 in
 * brackets, as `URL.hostname` gives them), `{ ip: false }` for names.
 */
export function classifyHostAddress(hostname: string): { ip: false } | { ip: true; blocked: string | null } {
  const v4 = parseIPv4(hostname);
  if (v4 !== null) return { ip: true, blocked: blockedIPv4(v4) };
  if (hostname.startsWith('[') && hostname.endsWith(']')) {
    const v6 = parseIPv6(hostname);
    // A bracketed host the URL parser accepted but we cannot read: refuse rather than guess.
    return { ip: true, blocked: v6 === null ? 'unreadable IPv6 literal' : blockedIPv6(v6) };
  }
  return { ip: false };
}
