/**
 * Page shapes that made the edge pipeline super-linear or crash, and an ordinary article page,
 * each built to about `bytes` bytes. Shared by test/edge/hostile-pages.test.ts, the site server
 * (`/hostile/<shape>?kb=N`) and `npm run bench:parsers`.
 */
const fill = (unit: string, bytes: number, head = '', tail = '') =>
  head + unit.repeat(Math.max(1, Math.floor((bytes - head.length - tail.length) / unit.length))) + tail;

/** An ordinary article: headings, paragraphs with inline markup and links, a list, a small table. */
export function ordinaryPage(bytes: number): string {
  const section = (n: number) =>
    `<section class="post"><h2>Section ${n}</h2><p>The quick brown fox jumps over the lazy dog; <b>bold words</b> and <em>some emphasis</em> ` +
    `with <a href="/articles/${n}" title="Article ${n}">a link to article ${n}</a> and a little more text to fill a line.</p>` +
    `<p>Second paragraph with <code>inline()</code> code, an <a href="https://example.org/ref/${n}">external reference</a> and plain words.</p>` +
    `<ul><li>first point</li><li>second point with <i>style</i></li></ul>` +
    `<table><tr><th>key</th><th>value</th></tr><tr><td>n</td><td>${n}</td></tr></table></section>\n`;
  const parts = ['<!doctype html><html><head><title>Ordinary</title><meta name="description" content="an article"></head><body><main>'];
  let size = parts[0]!.length;
  for (let n = 0; size < bytes; n++) {
    const s = section(n);
    parts.push(s);
    size += s.length;
  }
  parts.push('</main></body></html>');
  return parts.join('');
}

/** Each hostile shape by name. */
export const HOSTILE_SHAPES: Record<string, (bytes: number) => string> = {
  'open-brackets': (b) => fill('[', b),
  'link-like-text': (b) => fill('[a](b', b),
  'escaped-brackets': (b) => fill('\\]', b, '['),
  'nested-divs': (b) => fill('<div>', b, '', 'deep'),
  'misnested-inline': (b) => fill('<b><i><a href="/x">', b / 2) + fill('</b>', b / 2),
  'unclosed-links': (b) => fill('<a href="/x">t', b),
  'many-links': (b) => fill('<a href="/l">x</a>', b),
  'many-distinct-links': (b) => Array.from({ length: Math.floor(b / 24) }, (_, i) => `<a href="/l/${i}">x</a>`).join(''),
  'nested-lists': (b) => fill('<ul><li>x', b),
  'nested-quotes': (b) => fill('<blockquote>q', b),
  'nested-bold': (b) => fill('<b>x ', b),
  'nested-tables': (b) => fill('<table><tr><td>x', b),
  'wide-table': (b) => `<table><tr>${'<td>c'.repeat(Math.floor(b / 20))}</tr>${'<tr><td>r'.repeat(Math.floor(b / 20))}</table>`,
  'unclosed-p': (b) => fill('<p>x', b),
  'stray-end-tags': (b) => fill('<span>', 2000) + fill('</div>', b),
  'less-than': (b) => fill('<', b),
  stars: (b) => fill('*', b),
  underscores: (b) => fill('_', b),
  backticks: (b) => fill('`', b),
  backslashes: (b) => fill('\\', b),
  ampersands: (b) => fill('&', b),
  entities: (b) => fill('&amp;&#x41;&lt;', b),
  'huge-attribute': (b) => `<a href="/ok" title="${'t'.repeat(b)}">x</a>`,
  'unterminated-attribute': (b) => `<div class="${'x'.repeat(b)}`,
  'many-attributes': (b) => `<div ${fill('a=b ', b)}>x</div>`,
  'long-line': (b) => `<p>${fill('word ', b)}</p>`,
  whitespace: (b) => `<p>a${' '.repeat(b)}b</p>`,
  'line-breaks': (b) => fill('x<br>', b, '<b>', '</b>'),
  'unclosed-comment': (b) => fill('<!--', b),
  'unclosed-script': (b) => fill('x', b, '<script>'),
  'raw-text-starts': (b) => fill('<textarea></textare', b),
  'unclosed-pre': (b) => fill('`\n', b, '<pre>'),
  'unclosed-title': (b) => fill('t', b, '<title>'),
  'prototype-names': (b) => fill('<constructor __proto__="x" hasOwnProperty=y>&constructor;<meta name="__proto__" content="z">', b),
};
