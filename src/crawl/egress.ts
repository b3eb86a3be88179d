/**
 * Egress policy: which crawl targets may be fetched (SECURITY.md "Crawl requests", OWASP API7:2023
 * SSRF). Pure. Checked on the WHATWG-parsed URL before any forward or edge fetch, and again on
 * every redirect hop the edge engines follow.
 *
 * The WHATWG URL parser already folds every IPv4 spelling (decimal `2130706433`, hex `0x7f.1`,
 * octal `0177.0.0.1`, short `127.1`, trailing dot, percent-encoding, full-width digits) into a
 * dotted quad and lower-cases names, and rejects IPv6 zone ids; so the check reads
 * `url.hostname` only, never the raw string. Callers forward `url.href` (the canonical form they
 * checked), never the client's spelling, so a parser on the origin cannot read it differently.
 *
 * Not covered here: a public DNS name that resolves to a private address (DNS rebinding). The
 * gateway cannot resolve names portably at the edge; the origin's own egress controls must
 * cover that (docs/crawling.md).
 */
import { classifyHostAddress } from './blocked-addresses';

export type EgressResult = { ok: true; url: URL } | { ok: false; reason: string };

export interface EgressOptions {
  /**
   * Local development only (config refuses it in production): skips the private/loopback checks.
   * Cloud-metadata endpoints stay refused even then: no local-development crawl needs them, and a
   * laptop or CI runner on a cloud VM has real credentials behind them.
   */
  allowPrivateTargets: boolean;
}

/** Longest URL accepted (browsers and CDNs cap around 8-16 KiB). */
export const MAX_TARGET_URL_LENGTH = 8192;

/** Exact names that reach cloud metadata services or the local machine. */
const BLOCKED_NAMES = new Set([
  'localhost',
  'metadata',
  'metadata.goog',
  'metadata.google.internal',
  'instance-data',
  'metadata.azure.com',
  'metadata.packet.net',
  'metadata.platformequinix.com',
]);

/**
 * Name suffixes that never name a public site: RFC 6761 `.localhost`, RFC 6762 `.local` (mDNS),
 * RFC 8375 `.home.arpa`, ICANN's reserved private-use `.internal` (2024; GCP and AWS internal DNS
 * live there), and the common `.localdomain`/`.lan` search-domain names.
 */
const BLOCKED_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa', '.localdomain', '.lan'];

/** IPv4 169.254.169.254 (AWS, GCP, Azure, OpenStack), AWS's IPv6 fd00:ec2::254, and the metadata names. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '[fd00:ec2::254]', '100.100.100.200', '169.254.170.2']);

function isMetadataHost(host: string): boolean {
  const name = host.replace(/\.+$/, '');
  return METADATA_ADDRESSES.has(name) || (BLOCKED_NAMES.has(name) && name !== 'localhost');
}

/** Checks one target URL; returns the parsed URL to use, or the reason it is refused. */
export function checkTargetUrl(raw: string, options: EgressOptions): EgressResult {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'not a valid absolute URL' };
  if (raw.length > MAX_TARGET_URL_LENGTH) return { ok: false, reason: `longer than ${MAX_TARGET_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'only http and https targets are allowed' };
  const host = url.hostname.toLowerCase();
  if (isMetadataHost(host)) return { ok: false, reason: 'cloud metadata endpoints are never allowed' };
  if (options.allowPrivateTargets) return { ok: true, url };

  const address = classifyHostAddress(host);
  if (address.ip) {
    return address.blocked ? { ok: false, reason: `${address.blocked} addresses are not allowed` } : { ok: true, url };
  }
  const name = host.replace(/\.+$/, '');
  if (name === '' || BLOCKED_NAMES.has(name) || BLOCKED_SUFFIXES.some((s) => name.endsWith(s))) {
    return { ok: false, reason: 'local, internal or metadata host names are not allowed' };
  }
  // A single-label name ("intranet") resolves through the resolver's search domains: internal.
  if (!name.includes('.')) return { ok: false, reason: 'single-label host names are not allowed' };
  // A name ending in a number is an IPv4 spelling the parser should have folded; refuse, not guess.
  if (/\.\d+$/.test(name) || /^[\d.]+$/.test(name)) return { ok: false, reason: 'not a valid host name' };
  return { ok: true, url };
}
