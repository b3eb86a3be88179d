/**
 * Usage charts in a real browser (Debian's /usr/bin/chromium driven by playwright-core) against
 * `wrangler dev`: an admin gives a key a budget, the key crawls a local page on the fetch engine,
 * and the dashboard shows the remaining budget on the keys page and the usage charts (credits per
 * day, pages by engine, error rate, browser time) with the numbers the key's requests produced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { TEST_VARS } from '../helpers/test-vars';
import { startDevServer, type DevServer } from '../helpers/wrangler-dev';
import { hashPassword } from '../../scripts/secrets';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'usage-admin';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-usage`;
let server: DevServer | undefined;
let browser: Browser | undefined;
let site: Server | undefined;
let siteUrl = '';
let base = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  site = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><title>Usage fixture</title></head><body><h1>Hello</h1><p>A page to meter.</p></body></html>');
  });
  await new Promise<void>((resolve) => site!.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  server = await startDevServer({
    vars: {
      ...TEST_VARS,
      ENVIRONMENT: 'development',
      TRUSTED_HOSTS: '',
      ADMIN_USERNAME: ADMIN,
      ADMIN_PASSWORD_HASH: await hashPassword(PASSWORD),
      ORIGIN_URL: '',
      ALLOW_PRIVATE_TARGETS: 'true',
      RESPECT_ROBOTS: 'false',
      CREDIT_COSTS: '{"fetch_page":3}',
    },
    persistPrefix: 'cg-usage-',
    readyTimeoutMs: 240_000,
  });
  base = server.base;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  server?.stop();
  site?.close();
});

describe.skipIf(!existsSync(CHROMIUM))('usage charts in chromium', () => {
  it("shows the remaining budget and charts with the key's credits and pages", async () => {
    if (!browser) throw new Error('no browser');
    const login = await fetch(`${base}/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ username: ADMIN, password: PASSWORD, grant_type: 'password' }),
    });
    expect(login.status).toBe(200);
    const admin = {
      Authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}`,
      'Content-Type': 'application/json',
    };
    const created = await fetch(`${base}/admin/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'metered-key', scopes: ['crawl:run'], budget: { credits: 100, period: 'day' } }),
    });
    expect(created.status).toBe(201);
    const { key, id } = (await created.json()) as { key: string; id: string };
    // 3 pages at 3 credits: 9 used, 91 left.
    const crawl = await fetch(`${base}/crawl`, {
      method: 'POST',
      headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ urls: [`${siteUrl}/a`, `${siteUrl}/b`, `${siteUrl}/c`] }),
    });
    expect(crawl.status).toBe(200);
    expect(crawl.headers.get('RateLimit-Policy')).toContain('"budget";q=100;w=86400');
    await crawl.arrayBuffer();

    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${base}/dashboard/login`);
    await page.fill('input[name=username]', ADMIN);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    await page.goto(`${base}/dashboard/keys`);
    const row = page.locator('tr', { hasText: 'metered-key' });
    // The rollup is written off the request path: reload until the usage landed (bounded).
    await expect
      .poll(async () => (await row.locator('td.budget').textContent())?.trim(), { timeout: 20_000 })
      .toContain('91 / 100 per day');

    await row.locator('a:has-text("Usage")').click();
    expect(new URL(page.url()).pathname).toBe(`/dashboard/keys/${id}/usage`);
    const today = new Date().toISOString().slice(0, 10);
    const titles = async (chart: string) => page.locator(`#${chart} title`).allTextContents();
    await expect
      .poll(
        async () => {
          await page.reload();
          return titles('chart-credits');
        },
        { timeout: 20_000 },
      )
      .toContain(`${today} credits 9`);
    expect(await titles('chart-pages')).toContain(`${today} fetch pages 3`);
    expect(await titles('chart-errors')).toContain(`${today} error rate % 0`);
    expect(await titles('chart-browser')).toContain(`${today} browser s 0`);
    expect(await page.textContent('#budget')).toContain('91 of 100 credits left this day');

    // The budget is editable here: 50 per day leaves 41.
    await page.fill('input[name=credits]', '50');
    await Promise.all([page.waitForNavigation(), page.click('button:has-text("Set budget")')]);
    expect(await page.textContent('#budget')).toContain('41 of 50 credits left this day');
    expect(violations).toEqual([]);
    await context.close();
  }, 90_000);
});
