/**
 * The dashboard in a real browser (Debian's /usr/bin/chromium driven by playwright-core; no browser
 * download) against `wrangler dev`: sign in as the bootstrap admin, create an API key through the
 * form (shown once), see it listed, sign out — with no CSP violation reported by the browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { TEST_VARS } from '../helpers/test-vars';
import { hashPassword } from '../../scripts/secrets';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(import.meta.dirname, '../..');
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: 'true' };
const ADMIN = 'dash-admin';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-browser`;
let child: ChildProcess | undefined;
let browser: Browser | undefined;
let base = '';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  const persist = mkdtempSync(path.join(tmpdir(), 'cg-dash-'));
  const migrate = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], { cwd: root, env, encoding: 'utf8' });
  expect(migrate.status, migrate.stderr).toBe(0);
  const port = await freePort();
  const vars = Object.entries({ ...TEST_VARS, ENVIRONMENT: 'development', TRUSTED_HOSTS: '', ADMIN_USERNAME: ADMIN, ADMIN_PASSWORD_HASH: await hashPassword(PASSWORD) })
    .flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  child = spawn('npx', ['wrangler', 'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist, ...vars], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev did not start:\n${output}`)), 90_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (/Ready on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child?.stdout?.on('data', onData);
    child?.stderr?.on('data', onData);
    child?.on('exit', (code) => reject(new Error(`wrangler dev exited ${code}:\n${output}`)));
  });
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  // wrangler dev runs workerd children: stop the whole process group, or they outlive the test run.
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
});

describe.skipIf(!existsSync(CHROMIUM))('dashboard in chromium', () => {
  it('signs in, creates a key shown once, lists it, signs out; no CSP violations', async () => {
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
    await Promise.all([page.waitForLoadState('load'), page.click('text=Create key')]);
    expect(await page.textContent('h1')).toBe('Key created');
    const secret = (await page.textContent('#new-key'))?.trim() ?? '';
    expect(secret.length).toBeGreaterThan(20);

    await page.click('text=Done');
    expect(await page.textContent('table')).toContain('from-the-browser');
    expect(await page.content()).not.toContain(secret);

    await Promise.all([page.waitForURL(/\/dashboard\/login\?m=out$/), page.click('text=Sign out')]);
    await expect(page.textContent('main')).resolves.toContain('You have signed out.');
    expect((await context.cookies()).find((c) => c.name === '__Host-cg_session')).toBeUndefined();
    expect(violations).toEqual([]);
    await context.close();
  }, 60_000);
});
