/** Table-driven unit test of the egress policy: every textual address form the URL parser accepts. */
import { describe, expect, it } from 'vitest';
import { checkTargetUrl } from '../../src/crawl/egress';

const strict = { allowPrivateTargets: false };

const REFUSED: Array<[string, string]> = [
  ['http://127.0.0.1/', 'loopback dotted quad'],
  ['http://2130706433/', 'loopback as one decimal number'],
  ['http://0x7f000001/', 'loopback as one hex number'],
  ['http://0x7f.1/', 'loopback hex short form'],
  ['http://0177.0.0.1/', 'loopback octal'],
  ['http://0177.0000.0000.0001/', 'loopback octal with padding'],
  ['http://127.1/', 'loopback short form'],
  ['http://127.0.0.1./', 'loopback trailing dot'],
  ['http://%31%32%37.0.0.1/', 'loopback percent-encoded'],
  ['http://a@127.0.0.1/', 'credentials in the authority'],
  ['http://user:pass@127.0.0.1:8080/x', 'user and password in the authority'],
  ['http://evil.com@127.0.0.1/', 'host-looking userinfo'],
  ['HTTP://LOCALHOST/', 'uppercase localhost'],
  ['http://localhost./', 'localhost with trailing dot'],
  ['http://api.localhost/', 'subdomain of localhost'],
  ['http://[::1]/', 'IPv6 loopback'],
  ['http://[0:0:0:0:0:0:0:1]/', 'IPv6 loopback long form'],
  ['http://[::]/', 'IPv6 unspecified'],
  ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped IPv6 loopback'],
  ['http://[::ffff:7f00:1]/', 'IPv4-mapped IPv6 loopback in hex'],
  ['http://[::ffff:8.8.8.8]/', 'IPv4-mapped IPv6 (refused whatever the address)'],
  ['http://[::127.0.0.1]/', 'IPv4-compatible IPv6'],
  ['http://[64:ff9b::a9fe:a9fe]/', 'NAT64 of the metadata address'],
  ['http://[64:ff9b::10.0.0.1]/', 'NAT64 of a private address'],
  ['http://[2002:7f00:1::]/', '6to4 of loopback'],
  ['http://[2002:a9fe:a9fe::1]/', '6to4 of the metadata address'],
  ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'Teredo'],
  ['http://[fc00::1]/', 'unique-local'],
  ['http://[fd00:ec2::254]/', 'AWS IPv6 metadata'],
  ['http://[fe80::1]/', 'IPv6 link-local'],
  ['http://[FE80::ABCD]/', 'IPv6 link-local uppercase'],
  ['http://[ff02::1]/', 'IPv6 multicast'],
  ['http://10.0.0.1/', 'RFC 1918 10/8'],
  ['http://172.16.5.4/', 'RFC 1918 172.16/12'],
  ['http://172.31.255.255/', 'RFC 1918 upper edge'],
  ['http://192.168.1.1/', 'RFC 1918 192.168/16'],
  ['http://0xc0a80101/', 'private as hex number'],
  ['http://3232235777/', 'private as decimal number'],
  ['http://100.64.0.1/', 'CGNAT'],
  ['http://100.127.255.254/', 'CGNAT upper edge'],
  ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
  ['http://0xa9fea9fe/', 'cloud metadata as hex'],
  ['http://169.254.43518/', 'cloud metadata short form'],
  ['http://0.0.0.0/', 'this-network'],
  ['http://0/', 'zero as a number'],
  ['http://224.0.0.1/', 'multicast'],
  ['http://255.255.255.255/', 'broadcast'],
  ['http://metadata.google.internal/computeMetadata/v1/', 'GCP metadata name'],
  ['http://METADATA.GOOGLE.INTERNAL./', 'GCP metadata name uppercase with trailing dot'],
  ['http://metadata/', 'bare metadata name'],
  ['http://db.internal/', '.internal name'],
  ['http://printer.local/', 'mDNS name'],
  ['http://router.home.arpa/', 'home.arpa name'],
  ['http://intranet/', 'single-label name'],
  ['http://１２７.0.0.1/', 'full-width digits'],
  ['file:///etc/passwd', 'file scheme'],
  ['ftp://example.com/', 'ftp scheme'],
  ['gopher://example.com/', 'gopher scheme'],
  ['javascript:alert(1)', 'javascript scheme'],
  ['raw:<html></html>', 'Crawl4AI raw: pseudo-URL'],
  ['//example.com/', 'relative URL'],
  ['http://[::1%25eth0]/', 'IPv6 with zone id'],
  ['not a url', 'garbage'],
];

const ALLOWED = [
  'https://example.com/',
  'http://example.com:8080/path?q=1#frag',
  'https://EXAMPLE.com./',
  'https://user@example.com/',
  'http://8.8.8.8/',
  'http://[2606:4700:4700::1111]/',
  'http://[64:ff9b::808:808]/',
  'http://100.128.0.1/',
  'http://172.32.0.1/',
  'https://xn--nxasmq6b.example/',
];

describe('checkTargetUrl', () => {
  it.each(REFUSED)('refuses %s (%s)', (url) => {
    const r = checkTargetUrl(url, strict);
    expect(r.ok, JSON.stringify(r)).toBe(false);
  });

  it.each(ALLOWED)('allows %s', (url) => {
    const r = checkTargetUrl(url, strict);
    expect(r.ok, JSON.stringify(r)).toBe(true);
  });

  it('has at least 25 refused encodings', () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(25);
  });

  it('returns the canonical URL it checked', () => {
    const r = checkTargetUrl('HTTP://Example.COM:80/a/../b', strict);
    expect(r.ok && r.url.href).toBe('http://example.com/b');
  });

  it('ALLOW_PRIVATE_TARGETS skips the address checks but not the scheme check', () => {
    expect(checkTargetUrl('http://127.0.0.1:8080/', { allowPrivateTargets: true }).ok).toBe(true);
    expect(checkTargetUrl('file:///etc/passwd', { allowPrivateTargets: true }).ok).toBe(false);
  });
});

describe('cloud metadata with ALLOW_PRIVATE_TARGETS (local development)', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://0xa9fea9fe/latest/meta-data/',
    'http://2852039166/',
    'http://[fd00:ec2::254]/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://169.254.170.2/v2/credentials',
    'http://100.100.100.200/latest/meta-data/',
  ])('still refuses %s', (url) => {
    const r = checkTargetUrl(url, { allowPrivateTargets: true });
    expect(r.ok).toBe(false);
  });

  it('allows loopback then', () => {
    expect(checkTargetUrl('http://127.0.0.1:8080/', { allowPrivateTargets: true }).ok).toBe(true);
  });
});
