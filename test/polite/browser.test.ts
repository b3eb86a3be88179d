/** The browser engine obeys robots.txt before navigating and signs the requests the page makes. */
import { describe, expect, it } from 'vitest';
import { crawl, crawler, directoryKeys, edgeVars, hostLog, hostUrl, HOSTS, setupHost } from './helpers';

describe('robots.txt and signatures on the browser engine', () => {
  it('never navigates to a disallowed page; the allowed navigation arrives signed', async () => {
    const h = HOSTS.browser;
    await setupHost(h, { robots: { status: 200, body: 'User-agent: *\nDisallow: /private\n' }, jwks: await directoryKeys() });
    const { status, results } = await crawl(
      crawler('browser-robots'),
      [hostUrl(h, '/private/b'), hostUrl(h, '/public/b')],
      edgeVars({ HOST_MIN_DELAY_MS: '0' }),
      { engine: 'browser' },
    );
    expect(status).toBe(200);
    expect(results.find((r) => r.url.endsWith('/private/b'))).toMatchObject({ success: false, error_code: 'robots_disallowed' });
    expect(results.find((r) => r.url.endsWith('/public/b'))).toMatchObject({ success: true, status_code: 200 });
    const log = await hostLog(h);
    expect(log.arrivals.map((a) => a.path)).not.toContain('/private/b');
    const nav = log.arrivals.find((a) => a.path === '/public/b')!;
    expect(nav.signature_valid).toBe(true);
    expect(nav.user_agent).toMatch(/crawlgate/);
  }, 60_000);
});
