/** Users, audit and crawl pages, driven through their forms as a browser would. */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createUser, reloadUser } from '../helpers/auth';
import { Browser, csrfOf } from './browser';
import { clearAuditCheckpoints } from '../helpers/audit';

type Role = 'admin' | 'operator' | 'user' | 'viewer';
const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;

async function signedIn(roles: Role[], vars: Record<string, string> | null = null): Promise<{ b: Browser; username: string }> {
  const user = await createUser({ roles });
  const b = new Browser(vars);
  const res = await b.login(user.username, user.password);
  if (res.status !== 303) throw new Error(`login ${res.status}: ${await res.text()}`);
  return { b, username: user.username };
}

describe('users page', () => {
  it('an admin creates a user, changes its roles, disables it and resets its password', async () => {
    const { b } = await signedIn(['admin']);
    const token = csrfOf(await (await b.get('/dashboard/users')).text());
    const name = `dash-${crypto.randomUUID().slice(0, 8)}`;
    const created = await b.post('/dashboard/users', {
      csrf: token,
      username: name,
      password: 'a-long-enough-password-1',
      role_viewer: '1',
    });
    expect(created.status).toBe(303);
    expect(created.headers.get('Location')).toBe('/dashboard/users?ok=user_created');
    expect((await reloadUser(name)).roles).toEqual(['viewer']);

    const changed = await b.post(`/dashboard/users/${name}/roles`, { csrf: token, role_operator: '1', disabled: '1' });
    expect(changed.status).toBe(303);
    const after = await reloadUser(name);
    expect(after.roles).toEqual(['operator']);
    expect(after.disabled).toBe(true);

    const before = after.passwordHash;
    const reset = await b.post(`/dashboard/users/${name}/password`, { csrf: token, password: 'another-long-password-2' });
    expect(reset.status).toBe(303);
    expect((await reloadUser(name)).passwordHash).not.toBe(before);

    const page = await (await b.get('/dashboard/users?ok=user_changed')).text();
    expect(page).toContain('The user was updated.');
    expect(page).toContain(name);
  });

  it("shows the API's refusal (a duplicate user) as an error message", async () => {
    const { b, username } = await signedIn(['admin']);
    const token = csrfOf(await (await b.get('/dashboard/users')).text());
    const dup = await b.post('/dashboard/users', { csrf: token, username, password: 'a-long-enough-password-1', role_user: '1' });
    expect(dup.status).toBe(422);
    expect(await dup.text()).toContain('class="error"');
  });

  it('refuses user changes from someone without users:manage, server-side (403)', async () => {
    const victim = await createUser({ roles: ['user'] });
    const { b } = await signedIn(['operator']);
    const token = csrfOf(await (await b.get('/dashboard')).text());
    const res = await b.post(`/dashboard/users/${victim.username}/roles`, { csrf: token, role_admin: '1' });
    expect(res.status).toBe(403);
    expect((await reloadUser(victim.username)).roles).toEqual(['user']);
  });
});

describe('audit page and overview chart', () => {
  it('lists events with filters, exports CSV and verifies the chain', async () => {
    const { b, username } = await signedIn(['admin']);
    const list = await b.get(`/dashboard/audit?action=user_created&actor=${encodeURIComponent(username)}`);
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('No events match.');
    const all = await (await b.get('/dashboard/audit?outcome=success')).text();
    expect(all).toContain('<table>');
    const csv = await b.get('/dashboard/audit/export?format=csv&outcome=success');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('Content-Type')).toContain('text/csv');
    expect((await csv.text()).split('\r\n')[0]).toContain('action');
    await clearAuditCheckpoints(); // the local R2 bucket is shared with other test files (test/helpers/audit.ts)
    const verify = await b.post('/dashboard/audit/verify', { csrf: csrfOf(all) });
    const page = await verify.text();
    expect(page).toContain('Audit verification');
    // The page shows the report, or (422) why verify could not run. The R2 anchor is shared by test files
    // running at once while their objects are not, so another file's checkpoint can read as a rollback
    // here; test/audit/shards.test.ts asserts verify itself, this asserts the page.
    if (verify.status === 200) expect(page).toMatch(/checked/);
    else {
      expect(verify.status).toBe(422);
      expect(page).toContain('Audit verification cannot run');
    }
  });

  it('the overview shows a 24 h chart to audit readers only', async () => {
    const { b: admin } = await signedIn(['admin']);
    const home = await (await admin.get('/dashboard')).text();
    expect(home).toContain('<svg');
    expect(home).toMatch(/allowed \d+/);
    const { b: user } = await signedIn(['user']);
    const plain = await (await user.get('/dashboard')).text();
    expect(plain).not.toContain('<svg');
    expect(plain).toContain('playground:access');
    expect((await user.get('/dashboard/audit')).status).toBe(403);
  });
});

describe('crawl page', () => {
  const EDGE = { ORIGIN_URL: '', ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development' };

  it('previews markdown, escaped', async () => {
    const { b } = await signedIn(['user'], EDGE);
    const token = csrfOf(await (await b.get('/dashboard/crawl')).text());
    const res = await b.post('/dashboard/crawl', { csrf: token, url: `${SITE}/`, engine: 'fetch', mode: 'markdown' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<pre>[^<]+/);
  });

  it('previews cleaned HTML as escaped text', async () => {
    const { b } = await signedIn(['user'], EDGE);
    const token = csrfOf(await (await b.get('/dashboard/crawl')).text());
    const res = await b.post('/dashboard/crawl', { csrf: token, url: `${SITE}/`, engine: 'fetch', mode: 'html' });
    expect(res.status).toBe(200);
    const pre = /<pre>([\s\S]*?)<\/pre>/.exec(await res.text())?.[1] ?? '';
    expect(pre).toContain('&lt;');
    expect(pre).not.toContain('<');
  });

  it('shows the refusal for a target the gateway does not allow', async () => {
    const { b } = await signedIn(['user']);
    const token = csrfOf(await (await b.get('/dashboard/crawl')).text());
    const res = await b.post('/dashboard/crawl', { csrf: token, url: 'http://127.0.0.1:9/', engine: 'fetch', mode: 'markdown' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('class="error"');
  });

  it('refuses a viewer (no playground:access)', async () => {
    const { b } = await signedIn(['viewer']);
    expect((await b.get('/dashboard/crawl')).status).toBe(403);
  });
});
