/**
 * The dashboard in a real browser (Debian's /usr/bin/chromium driven by playwright-core; no browser
 * download) against `wrangler dev`: sign in as the bootstrap admin, create an API key through the
 * form (shown once), use it with fetch, revoke it,
 * see the audit rows, crawl a page from the playground, sign out; screenshots go to $TEST_ARTIFACTS_DIR
 * (default: <tmpdir>/crawlgate-dashboard-screenshots) — with no CSP violation reported by the browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { TEST_VARS } from '../helpers/test-vars';
import { startDevServer, type DevServer } from '../helpers/wrangler-dev';
import { hashPassword } from '../../scripts/secrets';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'dash-admin';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-browser`;
let server: DevServer | undefined;
let browser: Browser | undefined;
let base = '';
let site: Server | undefined;
let siteUrl = '';
/** Screenshots of each step, kept as test artifacts (gitignored). */
const ARTIFACTS = process.env.TEST_ARTIFACTS_DIR ?? path.join(tmpdir(), 'crawlgate-dashboard-screenshots');

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  // A page to crawl from the playground (loopback, so the Worker runs with ALLOW_PRIVATE_TARGETS).
  site = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(
      '<html><head><title>Fixture</title></head><body><h1>Hello from the fixture</h1><p>Some <b>text</b> to crawl.</p></body></html>',
    );
  });
  await new Promise<void>((resolve) => site?.listen(0, '127.0.0.1', () => resolve()));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
  server = await startDevServer({
    vars: {
      ...TEST_VARS,
      ENVIRONMENT: 'development',
      TRUSTED_HOSTS: '',
      ADMIN_USERNAME: ADMIN,
      ADMIN_PASSWORD_HASH: await hashPassword(PASSWORD),
      ORIGIN_URL: '',
      ALLOW_PRIVATE_TARGETS: 'true',
    },
    persistPrefix: 'cg-dash-',
    readyTimeoutMs: 90_000,
  });
  base = server.base;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  site?.close();
  server?.stop();
});

describe.skipIf(!existsSync(CHROMIUM))('dashboard in chromium', () => {
  it('signs in, creates a key shown once, uses and revokes it, reads the audit, crawls, signs out; no CSP violations', async () => {
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });

    await page.goto(`${base}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
    await expect(page.textContent('main')).resolves.toContain('Please sign in.');

    await page.fill('input[name=username]', ADMIN);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.textContent('main')).toContain('Signed in as');
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === '__Host-cg_session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    // The page's script cannot read the HttpOnly cookie.
    expect(await page.evaluate('document.cookie')).not.toContain('cg_session');

    await page.click('nav >> text=API keys');
    await page.fill('input[name=name]', 'from-the-browser');
    await Promise.all([page.waitForNavigation(), page.click('button:has-text("Create key")')]);
    expect(await page.textContent('h1')).toBe('Key created');
    const secret = (await page.textContent('#new-key'))?.trim() ?? '';
    expect(secret.length).toBeGreaterThan(20);

    await page.screenshot({ path: path.join(ARTIFACTS, '1-key-created.png'), fullPage: true });
    const keyId = (await page.textContent('main code'))?.trim() ?? '';

    // The key works against the API, as a client would use it.
    const validate = () => fetch(`${base}/auth/api-key/validate`, { method: 'POST', headers: { 'X-API-Key': secret } });
    expect((await validate()).status).toBe(200);

    await page.click('text=Done');
    expect(await page.textContent('table')).toContain('from-the-browser');
    expect(await page.content()).not.toContain(secret);
    await page.screenshot({ path: path.join(ARTIFACTS, '2-keys.png'), fullPage: true });

    // Revoke: a confirmation page first, then the key stops working.
    await page.click(`a[href="/dashboard/keys/${keyId}/revoke"]`);
    expect(await page.textContent('main')).toContain('cannot be undone');
    await Promise.all([page.waitForURL(/\/dashboard\/keys\?ok=revoked$/), page.click('text=Yes, revoke')]);
    expect(await page.textContent('main')).toContain('The key was revoked.');
    expect((await validate()).status).toBe(401);

    // The audit page shows what happened.
    await page.goto(`${base}/dashboard/audit?action=key_revoked`);
    expect(await page.textContent('table')).toContain('key_revoked');
    await page.goto(`${base}/dashboard/audit`);
    const audit = (await page.textContent('table')) ?? '';
    expect(audit).toContain('key_created');
    expect(audit).toContain('key_validated');
    await page.screenshot({ path: path.join(ARTIFACTS, '3-audit.png'), fullPage: true });

    // The playground crawl page, reached through /playground.
    await page.goto(`${base}/playground`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/crawl');
    await page.fill('input[name=url]', siteUrl);
    await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
    expect(await page.textContent('main')).toContain('Hello from the fixture');
    expect(await page.textContent('main pre')).toContain('Hello from the fixture');
    await page.screenshot({ path: path.join(ARTIFACTS, '4-crawl.png'), fullPage: true });

    await Promise.all([page.waitForURL(/\/dashboard\/login\?m=out$/), page.click('text=Sign out')]);
    await expect(page.textContent('main')).resolves.toContain('You have signed out.');
    expect((await context.cookies()).find((c) => c.name === '__Host-cg_session')).toBeUndefined();
    expect(violations).toEqual([]);
    await context.close();
  }, 60_000);
});
