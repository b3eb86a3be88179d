/**
 * A small website (Node http server on 127.0.0.1) for the edge engines to crawl: links, media,
 * charsets, redirect chains (one to a private address), a JavaScript-rendered page, a big page,
 * a slow page, a browser-state probe (cookie + localStorage) and numbered article pages for the benchmark.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from './origin-server';
import { HOSTILE_SHAPES, ordinaryPage } from './hostile-pages';

const html = (title: string, body: string, head = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>${body}</body></html>`;

const LINKS_PAGE = html(
  'Links and media',
  `<nav class="menu"><a href="/">Home</a> <a href="/about">About</a></nav>
  <main>
    <h1>Crawl fixture</h1>
    <p>This page has <a href="/about" title="About us">an internal link</a>, <a href="docs/guide#intro">a relative one</a>,
    <a href="/about#team">a duplicate with a fragment</a> and <a href="https://example.org/external">an external link</a>.</p>
    <p>Also <a href="mailto:someone@example.org">mail</a>, <a href="javascript:alert(1)">a script link</a>
    and <a href="https://sub.example.org/x" onclick="steal()">another external</a>.</p>
    <img src="/img/cat.png" alt="A cat"><img data-src="/img/lazy.jpg" alt="Lazy">
    <video src="/media/clip.mp4"></video><audio><source src="/media/song.mp3"></audio>
    <p onmouseover="evil()" style="color:red">Styled paragraph with enough words to survive.</p>
    <script>document.write('script output')</script><style>p { color: blue }</style>
    <iframe src="https://example.org/frame"></iframe>
  </main>
  <footer>Footer text © 2026 the fixture site, all rights reserved.</footer>`,
  `<meta name="description" content="A page with links and media"><meta property="og:title" content="OG links">
  <meta name="twitter:card" content="summary">`,
);

const JS_PAGE = html(
  'Rendered by script',
  `<div id="app"><p>Loading…</p></div>
  <script>
    setTimeout(() => {
      document.getElementById('app').innerHTML = '<h2 id="ready">Rendered by JavaScript</h2><p>Only a browser sees this paragraph.</p>';
      window.appReady = true;
    }, 300);
  </script>`,
);

/** "Café crème – naïve" in windows-1252 bytes, declared only by a <meta> (no header charset). */
function latin1Page(): Buffer {
  const text = `<!doctype html><html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><title>Caf\u00e9</title></head><body><p>Caf\u00e9 cr\u00e8me \u2013 na\u00efve</p></body></html>`;
  return Buffer.from([...text].map((ch) => (ch === '\u2013' ? 0x96 : ch.charCodeAt(0))));
}

/** Shift_JIS page declared by the Content-Type header: "日本語" = 93 fa 96 7b 8c ea. */
function sjisPage(): Buffer {
  const pre = Buffer.from('<!doctype html><html><head><title>sjis</title></head><body><p>');
  const post = Buffer.from('</p></body></html>');
  return Buffer.concat([pre, Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]), post]);
}

function articlePage(n: number): string {
  const paragraphs = Array.from(
    { length: 8 },
    (_, i) => `<p>Paragraph ${i + 1} of article ${n}: the quick brown fox jumps over the lazy dog, again and again, for testing.</p>`,
  ).join('');
  return html(
    `Article ${n}`,
    `<nav><a href="/">Home</a></nav><article><h1>Article ${n}</h1>${paragraphs}
    <p>Next: <a href="/pages/${n + 1}">article ${n + 1}</a>, previous: <a href="/pages/${Math.max(n - 1, 0)}">article ${n - 1}</a>.</p>
    <img src="/img/${n}.png" alt="Figure ${n}"></article>`,
  );
}

/** An article whose text breaks naive encoders: quotes, commas, newlines, markup, formulas, unicode. */
function hostileArticle(n: number): string {
  const nasty = `"Quoted", comma, =SUM(A1:A9) +1 -2 @cmd <script>alert(${n})</script> ]]> café 日本語 🎉 \u2028`;
  return html(
    `Hostile ${n}: ${nasty.replace(/[<>&]/g, (c) => `&#${c.charCodeAt(0)};`)}`,
    `<article><h1>Hostile &lt;b&gt;${n}&lt;/b&gt;</h1><p>${nasty.replace(/[<>&]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>
    <pre>line one\nline "two", three\r\nline four</pre><p>${'long words '.repeat(200)}</p></article>`,
  );
}

export async function startSiteServer(): Promise<RunningServer> {
  let port = 0;
  const beacons = new Set<string>();
  // Requests per path (for the jobs tests: retries, "no page crawled twice"); read with /hits?prefix=.
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path !== '/hits') hits.set(path, (hits.get(path) ?? 0) + 1);
    const send = (status: number, body: string | Buffer, type = 'text/html; charset=utf-8', extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': type, ...extra });
      res.end(body);
    };
    if (path === '/hits') {
      const prefix = url.searchParams.get('prefix') ?? '/';
      return send(200, JSON.stringify(Object.fromEntries([...hits].filter(([p]) => p.startsWith(prefix)))), 'application/json');
    }
    // /flaky/<key>?fail=N&status=S&retry_after=R: answers S (default 503) to the first N requests per key, then a page.
    const flaky = /^\/flaky\/([\w-]+)$/.exec(path);
    if (flaky) {
      const fail = Number(url.searchParams.get('fail') ?? '1');
      const retryAfter = url.searchParams.get('retry_after');
      if ((hits.get(path) ?? 0) <= fail)
        return send(
          Number(url.searchParams.get('status') ?? '503'),
          html('Busy', '<p>Try again</p>'),
          'text/html',
          retryAfter ? { 'Retry-After': retryAfter } : {},
        );
      return send(200, html(`Flaky ${flaky[1]}`, `<h1>Recovered ${flaky[1]}</h1><p>Served after ${fail} failures.</p>`));
    }
    // /p/<run>/<n>[?ms=D]: article n under a run-unique path (a test counts its own pages' hits), after D ms.
    const runPage = /^\/p\/([\w-]+)\/(\d+)$/.exec(path);
    if (runPage) {
      const delay = Math.min(Number(url.searchParams.get('ms') ?? '0'), 5000);
      const page = url.searchParams.has('hostile') ? hostileArticle(Number(runPage[2])) : articlePage(Number(runPage[2]));
      if (delay <= 0) return send(200, page);
      const timer = setTimeout(() => send(200, page), delay);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (path === '/') return send(200, html('Test site', '<h1>Hello</h1><p>A page.</p>'));
    // /hostile/<shape>?kb=N: a page shape from test/helpers/hostile-pages.ts (or `ordinary`), about N KiB.
    const hostile = /^\/hostile\/([\w-]+)$/.exec(path);
    if (hostile) {
      const bytes = Math.min(Number(url.searchParams.get('kb') ?? '64'), 8192) * 1024;
      const make =
        hostile[1] === 'ordinary' ? ordinaryPage : Object.hasOwn(HOSTILE_SHAPES, hostile[1]!) ? HOSTILE_SHAPES[hostile[1]!] : undefined;
      if (make) return send(200, make(bytes), 'text/html; charset=utf-8');
    }
    if (path === '/links') return send(200, LINKS_PAGE, 'text/html; charset=utf-8', { 'X-Fixture': 'links' });
    if (path === '/js') return send(200, JS_PAGE);
    if (path === '/latin1') return send(200, latin1Page(), 'text/html');
    if (path === '/sjis') return send(200, sjisPage(), 'text/html; charset=Shift_JIS');
    if (path === '/text') return send(200, 'plain <text> file', 'text/plain');
    if (path === '/binary') return send(200, Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'image/png');
    if (path === '/missing') return send(404, html('Not found', '<h1>Missing</h1><p>No such page here.</p>'));
    if (path === '/echo-headers')
      return send(200, html('Headers', `<pre id="h">${JSON.stringify(req.headers).replace(/</g, '&lt;')}</pre>`));
    const redirect = /^\/redirect\/(\d+)$/.exec(path);
    if (redirect) {
      const left = Number(redirect[1]);
      return send(302, '', 'text/plain', { Location: left > 1 ? `/redirect/${left - 1}` : '/links' });
    }
    if (path === '/to-private') return send(302, '', 'text/plain', { Location: `http://0x7f.1:${port}/` });
    if (path === '/to-metadata') return send(301, '', 'text/plain', { Location: 'http://169.254.169.254/latest/meta-data/' });
    if (path === '/loop') return send(302, '', 'text/plain', { Location: '/loop' });
    if (path === '/big') {
      // ~`kb` KiB of HTML, streamed in 64 KiB chunks; the reader stops early past its cap.
      const kb = Math.min(Number(url.searchParams.get('kb') ?? '8192'), 65536);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.write('<!doctype html><html><head><title>Big</title></head><body><h1>Big page</h1>');
      const chunk = `<p>${'x'.repeat(1016)}</p>\n`.repeat(64);
      let sent = 0;
      const pump = () => {
        while (sent < kb / 64) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('<p id="end">end of the big page</p></body></html>');
      };
      res.on('error', () => undefined);
      return pump();
    }
    if (path === '/slow') {
      const ms = Math.min(Number(url.searchParams.get('ms') ?? '5000'), 30_000);
      const timer = setTimeout(() => send(200, html('Slow', '<p>Finally here.</p>')), ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    const sub = /^\/subresources\/([\w-]+)$/.exec(path);
    if (sub) {
      // Two images from the same server under two names: the browser engine's egress check must
      // let the first through and stop the second before it leaves Chrome.
      const id = sub[1]!;
      return send(
        200,
        html(
          'Sub-resources',
          `<p>Two images.</p><img src="/beacon?id=${id}-allowed"><img src="http://localhost:${port}/beacon?id=${id}-refused">`,
        ),
      );
    }
    if (path === '/beacon') {
      beacons.add(url.searchParams.get('id') ?? '');
      return send(204, '', 'text/plain');
    }
    if (path === '/beacons') return send(200, JSON.stringify([...beacons]), 'application/json');
    if (path === '/state') {
      // Browser-state probe: prints the cookies the request carried and the localStorage value the
      // page found, then sets both to `who` (a cookie by Set-Cookie, localStorage by script).
      const who = (url.searchParams.get('who') ?? 'anon').replace(/[^\w-]/g, '');
      const sent = (req.headers.cookie ?? 'none').replace(/[<>&]/g, '');
      const script = `const seen = localStorage.getItem('who'); localStorage.setItem('who', '${who}');
        document.getElementById('storage').textContent = 'Storage seen: ' + (seen ?? 'none');`;
      return send(
        200,
        html(
          `State ${who}`,
          `<p id="cookies">Cookies sent: ${sent}</p><p id="storage">Storage seen: pending</p><script>${script}</script>`,
        ),
        'text/html; charset=utf-8',
        {
          'Set-Cookie': `who=${who}; Path=/; Max-Age=3600`,
        },
      );
    }
    // /cached/<key>: a page the browser may keep in its HTTP cache for an hour; says how often the server sent it.
    const cached = /^\/cached\/([\w-]+)$/.exec(path);
    if (cached)
      return send(200, html(`Cached ${cached[1]}`, `<p>Served ${hits.get(path)} times</p>`), 'text/html; charset=utf-8', {
        'Cache-Control': 'max-age=3600',
      });
    const article = /^\/pages\/(\d+)$/.exec(path);
    if (article) return send(200, articlePage(Number(article[1])));
    if (path.startsWith('/img/')) return send(404, '', 'text/plain');
    send(404, 'not found', 'text/plain');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
