/** The pure same-origin rule for dashboard form posts. */
import { describe, expect, it } from 'vitest';
import { sameOrigin } from '../../src/dashboard/guard';

const URL_ = 'https://crawlgate.test/dashboard/keys';

describe('sameOrigin', () => {
  it('accepts the own origin, or Sec-Fetch-Site same-origin (also with the opaque Origin: null of no-referrer pages)', () => {
    expect(sameOrigin(URL_, 'https://crawlgate.test', undefined)).toBe(true);
    expect(sameOrigin(URL_, 'https://crawlgate.test', 'same-origin')).toBe(true);
    expect(sameOrigin(URL_, 'null', 'same-origin')).toBe(true);
    expect(sameOrigin(URL_, undefined, 'same-origin')).toBe(true);
  });

  it('refuses foreign or missing signals', () => {
    expect(sameOrigin(URL_, 'https://evil.example', undefined)).toBe(false);
    expect(sameOrigin(URL_, 'http://crawlgate.test', undefined)).toBe(false);
    expect(sameOrigin(URL_, 'https://crawlgate.test', 'same-site')).toBe(false);
    expect(sameOrigin(URL_, 'https://crawlgate.test', 'cross-site')).toBe(false);
    expect(sameOrigin(URL_, 'null', undefined)).toBe(false);
    expect(sameOrigin(URL_, 'null', 'none')).toBe(false);
    expect(sameOrigin(URL_, undefined, undefined)).toBe(false);
  });
});
