/** Dashboard pages: nav by permission, keys created through the form, server-side refusals. */
import { describe, expect, it } from 'vitest';
import { csrfOf, signedIn } from './browser';

describe('dashboard pages', () => {
  it('a user without users:manage gets no Users link and a 403 page', async () => {
    const b = await signedIn(['user']);
    const home = await (await b.get('/dashboard')).text();
    expect(home).not.toContain('href="/dashboard/users"');
    // Self-service keys (keys:self) are part of the user role; a viewer has none.
    expect(home).toContain('href="/dashboard/keys"');
    expect(home).toContain('href="/dashboard/crawl"');
    const viewer = await signedIn(['viewer']);
    expect(await (await viewer.get('/dashboard')).text()).not.toContain('href="/dashboard/keys"');
    const users = await b.get('/dashboard/users');
    expect(users.status).toBe(403);
    expect(await users.text()).toContain('Not allowed');
    const admin = await signedIn(['admin']);
    expect(await (await admin.get('/dashboard')).text()).toContain('href="/dashboard/users"');
  }, 20_000); // three argon2id sign-ins on a shared machine

  it('creating a key through the form shows it once, then the list shows it without the secret', async () => {
    const b = await signedIn(['admin']);
    const token = csrfOf(await (await b.get('/dashboard/keys')).text());
    const res = await b.post('/dashboard/keys', { csrf: token, name: 'dash-key', 'scope_crawl:run': '1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const html = await res.text();
    const secret = /id="new-key">([^<]+)</.exec(html)?.[1] ?? '';
    expect(secret.length).toBeGreaterThan(20);
    expect(html).toContain('shown only once');
    const list = await (await b.get('/dashboard/keys')).text();
    expect(list).toContain('dash-key');
    expect(list).toContain('default / default');
    expect(await (await b.get('/dashboard/keys?status=revoked')).text()).toContain('No keys with this status.');
    expect(list).not.toContain(secret);
  });
});

describe('keys page actions', () => {
  it('rotates a key (new key shown once) and revokes only after the confirmation step', async () => {
    const b = await signedIn(['admin']);
    const token = csrfOf(await (await b.get('/dashboard/keys')).text());
    const created = await (await b.post('/dashboard/keys', { csrf: token, name: 'to-rotate', 'scope_crawl:run': '1' })).text();
    const id = /<code>(key_[A-Za-z0-9_-]+)<\/code>/.exec(created)?.[1] ?? '';
    expect(id).not.toBe('');
    const rotated = await b.post(`/dashboard/keys/${id}/rotate`, { csrf: token, grace_seconds: '3600' });
    expect(rotated.status).toBe(200);
    const rotatedHtml = await rotated.text();
    expect(rotatedHtml).toContain('Key rotated');
    const newId = /<code>(key_[A-Za-z0-9_-]+)<\/code>/.exec(rotatedHtml)?.[1] ?? '';
    expect(newId).not.toBe(id);

    const confirm = await b.get(`/dashboard/keys/${newId}/revoke`);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('Yes, revoke');
    const list1 = await (await b.get('/dashboard/keys?status=active')).text();
    expect(list1).toContain(newId);
    const revoked = await b.post(`/dashboard/keys/${newId}/revoke`, { csrf: token });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('Location')).toBe('/dashboard/keys?ok=revoked');
    const list2 = await (await b.get('/dashboard/keys?status=active&ok=revoked')).text();
    expect(list2).toContain('The key was revoked.');
    expect(list2).not.toContain(newId);
  });
});
