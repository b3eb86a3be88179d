/** Static assets, the page CSP (no inline script), and /playground's hand-off to the dashboard. */
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http';
import { createUser } from '../helpers/auth';
import { Browser } from './browser';

describe('dashboard assets and CSP', () => {
  it('serves the stylesheet and the copy script from the Worker', async () => {
    const css = await call('/dashboard/static/app.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('Content-Type')).toContain('text/css');
    const js = await call('/dashboard/static/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('Content-Type')).toContain('text/javascript');
    expect(await js.text()).toContain('data-copy');
  });

  it('pages carry a strict CSP, no inline script or style, and work without JS (plain forms)', async () => {
    const login = await call('/dashboard/login');
    expect(login.status).toBe(200);
    const csp = login.headers.get('Content-Security-Policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(login.headers.get('X-Frame-Options')).toBe('DENY');
    const html = await login.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/);
    expect(html).toContain('<form method="post" action="/dashboard/login">');
  });

  it('escapes what it renders (markup in a filter value is echoed as text)', async () => {
    const user = await createUser({ roles: ['admin'] });
    const b = new Browser();
    await b.login(user.username, user.password);
    const res = await b.get(`/dashboard/audit?actor=${encodeURIComponent('"><script>alert(1)</script>')}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)');
  });
});

describe('/playground with a dashboard session', () => {
  it('redirects a session (no bearer) to the dashboard crawl page; anonymous stays 401', async () => {
    const user = await createUser({ roles: ['user'] });
    const b = new Browser();
    await b.login(user.username, user.password);
    const res = await b.get('/playground');
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/dashboard/crawl');
    expect((await b.get('/dashboard/crawl')).status).toBe(200);
    expect((await call('/playground')).status).toBe(401);
  });
});
