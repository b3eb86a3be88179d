/**
 * /dashboard/crawl (playground:access): URL + engine → markdown (POST /md) or cleaned HTML (POST /html)
 * preview as escaped text, or a screenshot via POST /screenshot shown as an <img> data URL (CSP img-src allows data:).
 * The result is rendered in the POST's answer (nothing to redirect to: it is not stored).
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../env';
import { Csrf, Page, type Me } from './layout';
import { forbidden, send, whoAmI } from './render';
import { guardPost } from './guard';
import { DashSession } from './session';

type Result = { kind: 'markdown' | 'html'; text: string } | { kind: 'screenshot'; png: string } | null;

/** Pure: a base64 string safe to put in a data: URL (only base64 characters). */
export function safeBase64(s: unknown): string | null {
  return typeof s === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(s) ? s : null;
}

function CrawlPage(props: { me: Me; csrf: string; url: string; engine: string; mode: string; error: string | null; result: Result }) {
  return (
    <Page title="Crawl" me={props.me} csrf={props.csrf} error={props.error}>
      <form method="post" action="/dashboard/crawl">
        <Csrf token={props.csrf} />
        <label>
          URL <input name="url" type="url" required size={60} value={props.url} placeholder="https://example.com" />
        </label>{' '}
        <label>
          Engine{' '}
          <select name="engine">
            {['fetch', 'browser'].map((e) => (
              <option value={e} selected={props.engine === e}>
                {e}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          Result{' '}
          <select name="mode">
            {['markdown', 'html', 'screenshot'].map((m) => (
              <option value={m} selected={props.mode === m}>
                {m}
              </option>
            ))}
          </select>
        </label>{' '}
        <button type="submit">Crawl</button>
      </form>
      {(props.result?.kind === 'markdown' || props.result?.kind === 'html') &&
        (props.result.text ? <pre>{props.result.text}</pre> : <p class="empty">The page has no text.</p>)}
      {props.result?.kind === 'screenshot' && (
        <img class="shot" alt={`Screenshot of ${props.url}`} src={`data:image/png;base64,${props.result.png}`} />
      )}
    </Page>
  );
}

/** Registers the crawl pages. */
export function crawlPages(r: Hono<AppEnv>): void {
  r.get('/dashboard/crawl', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    if (!me.permissions.includes('playground:access')) return forbidden(c, me, csrf, 'You need the playground:access permission.');
    return send(c, <CrawlPage me={me} csrf={csrf} url="" engine="fetch" mode="markdown" error={null} result={null} />);
  });

  r.post('/dashboard/crawl', async (c) => {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const { me, csrf } = await whoAmI(c, g.session);
    if (!me.permissions.includes('playground:access')) return forbidden(c, me, csrf, 'You need the playground:access permission.');
    const url = g.form.url ?? '';
    const engine = g.form.engine === 'browser' ? 'browser' : 'fetch';
    const mode = g.form.mode === 'screenshot' || g.form.mode === 'html' ? g.form.mode : 'markdown';
    const res =
      mode === 'markdown'
        ? await g.session.api('POST', '/md', { url, f: 'fit', engine })
        : await g.session.api('POST', mode === 'html' ? '/html' : '/screenshot', { url, engine });
    const props = { me, csrf, url, engine, mode };
    if (!res.ok) return send(c, <CrawlPage {...props} error={res.error} result={null} />, res.status === 403 ? 403 : 422);
    let result: Result;
    if (mode === 'markdown') result = { kind: 'markdown', text: String((res.body as { markdown?: unknown }).markdown ?? '') };
    else if (mode === 'html') result = { kind: 'html', text: String((res.body as { html?: unknown }).html ?? '') };
    else {
      const png = safeBase64((res.body as { screenshot?: unknown }).screenshot);
      if (!png) return send(c, <CrawlPage {...props} error="The crawler returned no screenshot." result={null} />, 422);
      result = { kind: 'screenshot', png };
    }
    return send(c, <CrawlPage {...props} error={null} result={result} />);
  });
}
