/**
 * Egress policy: which crawl targets may be fetched (SECURITY.md "Crawl requests"). Pure.
 * Checked on the parsed URL before any forward or edge fetch, and again on every redirect hop.
 * The crawl-forwarding issue hardens this against every textual address form.
 */
import { parseIp } from '../http/cidr';

export type EgressResult = { ok: true; url: URL } | { ok: false; reason: string };

export interface EgressOptions {
  allowPrivateTargets: boolean;
}

export function checkTargetUrl(raw: string, options: EgressOptions): EgressResult {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'only http and https targets are allowed' };
  if (options.allowPrivateTargets) return { ok: true, url };
  const host = url.hostname.replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, reason: 'loopback targets are not allowed' };
  const ip = parseIp(host.replace(/^\[|\]$/g, ''));
  if (ip !== null) return { ok: false, reason: 'IP-literal targets are checked by the hardened policy' };
  return { ok: true, url };
}
