import { describe, expect, it } from 'vitest';
import { ipInCidrs, parseCidr, parseCidrList, parseIp } from '../../src/http/cidr';

describe('CIDR allow-lists', () => {
  const list = parseCidrList('10.0.0.0/8, 192.168.1.0/24, 2001:db8::/32, 203.0.113.7');

  it.each([
    ['10.1.2.3', true],
    ['11.0.0.1', false],
    ['192.168.1.255', true],
    ['192.168.2.1', false],
    ['203.0.113.7', true],
    ['203.0.113.8', false],
    ['2001:db8::1', true],
    ['2001:DB8:ffff::1', true],
    ['2001:db9::1', false],
    ['::ffff:10.9.9.9', true],
    ['::ffff:0a09:0909', true],
    ['fe80::1%eth0', false],
    ['not-an-ip', false],
    ['010.1.2.3', false],
    ['', false],
  ])('%s → %s', (ip, expected) => {
    expect(ipInCidrs(ip, list)).toBe(expected);
  });

  it('treats /0 as everything of that family and an empty list as nothing', () => {
    expect(ipInCidrs('8.8.8.8', parseCidrList('0.0.0.0/0'))).toBe(true);
    expect(ipInCidrs('2606:4700::1', parseCidrList('::/0'))).toBe(true);
    expect(ipInCidrs('8.8.8.8', [])).toBe(false);
  });

  it.each(['10.0.0.0/33', '::/129', '1.2.3/8', '1.2.3.4/-1', 'abc/8', '1.2.3.4/8x'])('refuses %s', (bad) => {
    expect(() => parseCidr(bad)).toThrow();
  });

  it('parses IPv6 forms to the same value', () => {
    expect(parseIp('::1')).toBe(parseIp('0:0:0:0:0:0:0:1'));
    expect(parseIp('[::1]')).toBe(1n);
    expect(parseIp('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(parseIp('1::2::3')).toBeNull();
  });
});
