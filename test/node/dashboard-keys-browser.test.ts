/**
 * Self-service keys in a real browser (Debian's /usr/bin/chromium driven by playwright-core)
 * against `wrangler dev`: a plain `user` signs in, creates a key through the form (shown once, it
 * works), sees only their own keys (not the admin's), rotates it (the old key stops, the new one
 * works) and revokes it. Screenshots go to $TEST_ARTIFACTS_DIR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { TEST_VARS } from '../helpers/test-vars';
import { startDevServer, type DevServer } from '../helpers/wrangler-dev';
import { hashPassword } from '../../scripts/secrets';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'keys-admin';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-browser`;
let server: DevServer | undefined;
let browser: Browser | undefined;
let base = '';
/** Screenshots of each step, kept as test artifacts (gitignored). */
const ARTIFACTS = process.env.TEST_ARTIFACTS_DIR ?? path.join(tmpdir(), 'crawlgate-dashboard-keys-screenshots');

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  mkdirSync(ARTIFACTS, { recursive: true });
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
    readyTimeoutMs: 240_000,
  });
  base = server.base;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  server?.stop();
});

describe.skipIf(!existsSync(CHROMIUM))('self-service keys in chromium', () => {
  it("a plain user creates, lists, rotates and revokes their own keys and sees no one else's", async () => {
    if (!browser) throw new Error('no browser');
    // The admin (API) creates a user and a key of its own.
    const login = await fetch(`${base}/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ username: ADMIN, password: PASSWORD, grant_type: 'password' }),
    });
    expect(login.status).toBe(200);
    const admin = {
      Authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}`,
      'Content-Type': 'application/json',
    };
    const user = { username: 'plain-user', password: 'a plain user passphrase 7' };
    expect(
      (await fetch(`${base}/admin/users`, { method: 'POST', headers: admin, body: JSON.stringify({ ...user, roles: ['user'] }) })).status,
    ).toBe(201);
    expect(
      (
        await fetch(`${base}/admin/keys`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ name: 'admins-own-key', scopes: ['crawl:run'] }),
        })
      ).status,
    ).toBe(201);

    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${base}/dashboard/login`);
    await page.fill('input[name=username]', user.username);
    await page.fill('input[name=password]', user.password);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.textContent('main')).toContain('Signed in as');

    await page.click('nav >> text=API keys');
    expect(new URL(page.url()).pathname).toBe('/dashboard/keys');
    // Only scopes the user holds are offered.
    expect(await page.locator('input[name="scope_keys:read"]').count()).toBe(0);
    await page.fill('input[name=name]', 'my-first-key');
    await Promise.all([page.waitForNavigation(), page.click('button:has-text("Create key")')]);
    expect(await page.textContent('h1')).toBe('Key created');
    const secret = (await page.textContent('#new-key'))?.trim() ?? '';
    const keyId = (await page.textContent('main code'))?.trim() ?? '';
    const validate = (key: string) => fetch(`${base}/auth/api-key/validate`, { method: 'POST', headers: { 'X-API-Key': key } });
    expect((await validate(secret)).status).toBe(200);
    await page.screenshot({ path: path.join(ARTIFACTS, '1-user-key-created.png'), fullPage: true });

    await page.click('text=Done');
    const table = (await page.textContent('table')) ?? '';
    expect(table).toContain('my-first-key');
    expect(table).not.toContain('admins-own-key');

    // Rotate with no grace: a new key is shown once; the old one stops, the new one works.
    await Promise.all([page.waitForNavigation(), page.click(`form[action="/dashboard/keys/${keyId}/rotate"] button`)]);
    expect(await page.textContent('h1')).toBe('Key rotated');
    const rotated = (await page.textContent('#new-key'))?.trim() ?? '';
    const rotatedId = (await page.textContent('main code'))?.trim() ?? '';
    expect(rotated).not.toBe(secret);
    expect((await validate(secret)).status).toBe(401);
    expect((await validate(rotated)).status).toBe(200);
    await page.screenshot({ path: path.join(ARTIFACTS, '2-user-key-rotated.png'), fullPage: true });

    await page.click('text=Done');
    await page.click(`a[href="/dashboard/keys/${rotatedId}/revoke"]`);
    await Promise.all([page.waitForURL(/\/dashboard\/keys\?ok=revoked$/), page.click('text=Yes, revoke')]);
    expect(await page.textContent('main')).toContain('The key was revoked.');
    expect((await validate(rotated)).status).toBe(401);
    await page.screenshot({ path: path.join(ARTIFACTS, '3-user-key-revoked.png'), fullPage: true });
    expect(violations).toEqual([]);
    await context.close();
  }, 60_000);
});
