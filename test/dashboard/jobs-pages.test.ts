/** Dashboard jobs and usage pages: submit through the form, watch, export, act; other users see nothing. */
import { describe, expect, it } from 'vitest';
import { csrfOf, signedIn, type Browser } from './browser';
import { parseUrlList } from '../../src/dashboard/pages-jobs';

async function pageUntil(b: Browser, path: string, ok: (html: string) => boolean): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const html = await (await b.get(path)).text();
    if (ok(html)) return html;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${path} never got there`);
}

describe('dashboard jobs', () => {
  it('parses the URL box: one per line, blanks and duplicates dropped', () => {
    expect(parseUrlList(' https://a.example/ \r\n\nhttps://b.example/\nhttps://a.example/ ')).toEqual([
      'https://a.example/',
      'https://b.example/',
    ]);
  });

  it('submits a job from the form, shows its progress until done, exports it, and lists usage', async () => {
    const b = await signedIn(['user']);
    const list = await (await b.get('/dashboard/jobs')).text();
    expect(list).toContain('href="/dashboard/jobs"');
    expect(list).toContain('href="/dashboard/usage"');
    const csrf = csrfOf(list);
    const res = await b.post('/dashboard/jobs', {
      csrf,
      urls: 'https://example.com/dash-1\nhttps://example.com/dash-2\n',
      priority: 'high',
      engine: '',
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('Location')!;
    expect(location).toMatch(/^\/dashboard\/jobs\/job_[0-9a-f]{24}\?ok=submitted$/);
    const id = /job_[0-9a-f]{24}/.exec(location)![0];
    const done = await pageUntil(b, `/dashboard/jobs/${id}`, (h) => h.includes('<strong>completed</strong>'));
    expect(done).toContain('2 total · 2 done · 0 failed');
    expect(done).toContain('priority high');
    expect(done).not.toContain('http-equiv="refresh"'); // no reload once finished
    const csv = await b.get(`/dashboard/jobs/${id}/export?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('Content-Type')).toContain('text/csv');
    expect(await csv.text()).toContain('https://example.com/dash-2');
    expect(await (await b.get('/dashboard/jobs')).text()).toContain(id);
    const usage = await (await b.get('/dashboard/usage?hours=1')).text();
    expect(usage).toMatch(/\b2 pages\b/);
    // Both count tables: the hour and the principal, each with its 2 pages.
    expect(usage).toMatch(/<th>Hour \(UTC\)<\/th>[\s\S]*<td>\d{4}-\d\d-\d\d \d\d:00<\/td><td>2<\/td><td>0<\/td>/);
    expect(usage).toMatch(/<th>Principal<\/th>[\s\S]*<td><code>usr_[^<]+<\/code><\/td><td>2<\/td><td>0<\/td>/);

    // Acting on a finished job is refused with the API's reason; another user cannot see it at all.
    const refused = await b.post(`/dashboard/jobs/${id}/pause`, { csrf });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('cannot be paused');
    const other = await signedIn(['user']);
    expect((await other.get(`/dashboard/jobs/${id}`)).status).toBe(404);
    expect((await other.get(`/dashboard/jobs/${id}/export?format=json`)).status).toBe(404);
    expect(await (await other.get('/dashboard/jobs')).text()).not.toContain(id);
  }, 60_000);

  it('refuses a job form without the CSRF token', async () => {
    const b = await signedIn(['user']);
    const res = await b.post('/dashboard/jobs', { urls: 'https://example.com/x' });
    expect(res.status).toBe(403);
  });
});
