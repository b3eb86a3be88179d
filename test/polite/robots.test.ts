/**
 * robots.txt at the edge (RFC 9309), seen from the target site: a disallowed page is never
 * requested and comes back `robots_disallowed`; 4xx robots.txt allows everything; 5xx disallows
 * everything; redirects are followed; ignoring robots.txt needs `crawl:ignore-robots`.
 */
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor } from '../helpers/principal';
import { crawl, crawler, directoryKeys, edgeVars, hostLog, hostUrl, HOSTS, setupHost } from './helpers';

const RULES = 'User-agent: *\nDisallow: /private\n\nUser-agent: OtherBot\nDisallow: /\n';
const vars = edgeVars({ HOST_MIN_DELAY_MS: '0' });

describe('robots.txt on the fetch engine', () => {
  it('refuses a disallowed URL with robots_disallowed and never requests it; allowed pages arrive signed', async () => {
    const h = HOSTS.rules;
    await setupHost(h, { robots: { status: 200, body: RULES }, jwks: await directoryKeys() });
    const { status, results } = await crawl(crawler('robots-a'), [hostUrl(h, '/private/1'), hostUrl(h, '/public/1')], vars);
    expect(status).toBe(200);
    const refused = results.find((r) => r.url.endsWith('/private/1'))!;
    expect(refused).toMatchObject({ success: false, error_code: 'robots_disallowed' });
    expect(refused.error_message).toMatch(/disallowed by robots\.txt/);
    expect(results.find((r) => r.url.endsWith('/public/1'))).toMatchObject({ success: true, status_code: 200 });

    const log = await hostLog(h);
    const paths = log.arrivals.map((a) => a.path);
    expect(paths).not.toContain('/private/1');
    expect(paths.filter((p) => p === '/robots.txt')).toHaveLength(1);
    expect(paths).toContain('/public/1');
    // Honest identity: the crawler's User-Agent names crawlgate; robots.txt and the page are both signed.
    for (const a of log.arrivals) {
      expect(a.user_agent).toMatch(/crawlgate\/\d/);
      expect(a.tag).toBe('web-bot-auth');
      expect(a.signature_valid).toBe(true);
      expect(a.valid_if_authority_altered).toBe(false);
      expect(a.signature_agent).toBe('"https://crawlgate.test"');
    }
  });

  it('reads robots.txt once per origin: a second request reuses the cached copy', async () => {
    const h = HOSTS.rules;
    await setupHost(h, { robots: { status: 200, body: RULES } });
    await crawl(crawler('robots-b'), [hostUrl(h, '/public/2')], vars);
    await crawl(crawler('robots-c'), [hostUrl(h, '/public/3'), hostUrl(h, '/private/3')], vars);
    const paths = (await hostLog(h)).arrivals.map((a) => a.path);
    // The cache from the first test still holds (24 h): no robots.txt fetch at all this time.
    expect(paths.filter((p) => p === '/robots.txt')).toHaveLength(0);
    expect(paths).toEqual(expect.arrayContaining(['/public/2', '/public/3']));
    expect(paths).not.toContain('/private/3');
  });

  it('treats a 4xx robots.txt as allow-all', async () => {
    const h = HOSTS.missing;
    await setupHost(h, { robots: { status: 404 } });
    const { results } = await crawl(crawler('robots-d'), [hostUrl(h, '/private/1')], vars);
    expect(results[0]).toMatchObject({ success: true, status_code: 200 });
    expect((await hostLog(h)).arrivals.map((a) => a.path)).toEqual(['/robots.txt', '/private/1']);
  });

  it('treats a 5xx robots.txt as disallow-all', async () => {
    const h = HOSTS.broken;
    await setupHost(h, { robots: { status: 503 } });
    const { results } = await crawl(crawler('robots-e'), [hostUrl(h, '/public/1'), hostUrl(h, '/page/1')], vars);
    expect(results.map((r) => r.error_code)).toEqual(['robots_disallowed', 'robots_disallowed']);
    expect(results[0]!.error_message).toMatch(/unreachable \(HTTP 503\)/);
    expect((await hostLog(h)).arrivals.map((a) => a.path)).toEqual(['/robots.txt']);
  });

  it('follows a robots.txt redirect and obeys the file it lands on', async () => {
    const h = HOSTS.redirect;
    await setupHost(h, { robots: { redirect: '/moved-robots.txt' } });
    const { results } = await crawl(crawler('robots-f'), [hostUrl(h, '/private/9'), hostUrl(h, '/public/9')], vars);
    expect(results.find((r) => r.url.endsWith('/private/9'))?.error_code).toBe('robots_disallowed');
    expect(results.find((r) => r.url.endsWith('/public/9'))?.success).toBe(true);
    expect((await hostLog(h)).arrivals.map((a) => a.path).sort()).toEqual(['/moved-robots.txt', '/public/9', '/robots.txt']);
  });

  it('answers /md for a disallowed page without fetching it', async () => {
    const h = HOSTS.rules;
    await setupHost(h, { robots: { status: 200, body: RULES } });
    const res = await callAs(crawler('robots-g'), '/md', { json: { url: hostUrl(h, '/private/md'), engine: 'fetch' }, vars });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: false, markdown: '' });
    expect((await hostLog(h)).arrivals.map((a) => a.path)).not.toContain('/private/md');
  });
});

describe('ignore_robots', () => {
  it('is refused with 403 insufficient_scope without crawl:ignore-robots, and nothing is fetched', async () => {
    const h = HOSTS.bypass;
    await setupHost(h, { robots: { status: 200, body: RULES } });
    const res = await callAs(crawler('bypass-a'), '/crawl', {
      json: { urls: [hostUrl(h, '/private/1')], engine: 'fetch', ignore_robots: true },
      vars,
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'insufficient_scope', required: ['crawl:ignore-robots'] });
    expect((await hostLog(h)).arrivals).toEqual([]);
  });

  it('lets a holder of crawl:ignore-robots fetch a disallowed page (robots.txt not even read)', async () => {
    const h = HOSTS.bypass;
    await setupHost(h, { robots: { status: 200, body: RULES } });
    const admin = credentialFor({ id: 'bypass-admin', permissions: ['crawl:run', 'crawl:ignore-robots'] });
    const { results } = await crawl(admin, [hostUrl(h, '/private/2')], vars, { ignore_robots: true });
    expect(results[0]).toMatchObject({ success: true, status_code: 200 });
    expect((await hostLog(h)).arrivals.map((a) => a.path)).toEqual(['/private/2']);
  });

  it('is not implied by the crawl:* wildcard', async () => {
    const { normalizeScopes, DEFAULT_ROLE_PERMISSIONS } = await import('../../src/auth/rbac');
    expect(normalizeScopes(['crawl:*'])).not.toContain('crawl:ignore-robots');
    expect(DEFAULT_ROLE_PERMISSIONS.admin).toContain('crawl:ignore-robots');
    expect(DEFAULT_ROLE_PERMISSIONS.operator).not.toContain('crawl:ignore-robots');
  });
});
