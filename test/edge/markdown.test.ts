import { describe, expect, it } from 'vitest';
import { htmlToMarkdown, toCitations, fitContent, generateMarkdown, bm25Scores } from '../../src/engines/markdown';
import { parseHtml, textContent } from '../../src/engines/markdown/html-tree';

const BASE = 'https://example.com/docs/page.html';

describe('htmlToMarkdown', () => {
  it('converts headings, paragraphs and inline emphasis', () => {
    const md = htmlToMarkdown(
      '<h1>Title</h1><p>Some <strong>bold</strong> and <em> italic </em> text with <code>x()</code>.</p><h3>Sub</h3>',
    );
    expect(md).toBe('# Title\n\nSome **bold** and *italic* text with `x()`.\n\n### Sub');
  });

  it('resolves links and images against the page URL and keeps titles', () => {
    const md = htmlToMarkdown('<p><a href="../about" title="About us">About</a> <img src="/logo.png" alt="Logo"></p>', { baseUrl: BASE });
    expect(md).toBe('[About](https://example.com/about "About us") ![Logo](https://example.com/logo.png)');
  });

  it('honours <base href> and drops javascript: links but keeps their text', () => {
    const md = htmlToMarkdown(
      '<head><base href="https://cdn.example.org/x/"></head><a href="y">Y</a> <a href="javascript:alert(1)">Z</a>',
      { baseUrl: BASE },
    );
    expect(md).toBe('[Y](https://cdn.example.org/x/y) Z');
  });

  it('renders nested lists, ordered lists with start, block quotes and code blocks', () => {
    const md = htmlToMarkdown(
      '<ul><li>one<ul><li>one.a</li></ul></li><li>two</li></ul><ol start="3"><li>three<li>four</ol>' +
        '<blockquote><p>quoted</p><p>twice</p></blockquote><pre><code class="language-js">let a = 1 &lt; 2;\n  indent()</code></pre>',
    );
    expect(md).toBe('- one\n  - one.a\n- two\n\n3. three\n4. four\n\n> quoted\n>\n> twice\n\n```js\nlet a = 1 < 2;\n  indent()\n```');
  });

  it('renders tables as GFM tables and escapes pipes', () => {
    const md = htmlToMarkdown(
      '<table><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody><tr><td>a|b</td><td>1</td></tr></tbody></table>',
    );
    expect(md).toBe('| Name | Value |\n| --- | --- |\n| a\\|b | 1 |');
  });

  it('drops scripts, styles, iframes, forms and hidden elements', () => {
    const md = htmlToMarkdown(
      '<p>keep</p><script>var secret = "<p>no</p>";</script><style>p{}</style><iframe src="x"></iframe><div hidden>hidden</div><button>Click</button>',
    );
    expect(md).toBe('keep');
  });

  it('decodes character references and collapses whitespace', () => {
    expect(htmlToMarkdown('<p>caf&eacute;   &amp;\n  cr&#232;me &#x2014; ok</p>')).toBe('café & crème — ok');
  });
});

describe('parseHtml', () => {
  it('tolerates unclosed paragraphs and stray closing tags', () => {
    const root = parseHtml('<p>one<p>two</span><div>three</div>');
    const tags = root.children.map((c) => (c.type === 'element' ? c.tag : '#text'));
    expect(tags).toEqual(['p', 'p', 'div']);
    expect(textContent(root)).toBe('onetwothree');
  });
});

describe('toCitations', () => {
  it('numbers each distinct URL once, as Crawl4AI does', () => {
    const { markdownWithCitations, referencesMarkdown } = toCitations(
      'See [Docs](https://a.test/docs "Guide") and [again](https://a.test/docs) and ![Logo](https://a.test/l.png).',
    );
    expect(markdownWithCitations).toBe('See Docs⟨1⟩ and again⟨1⟩ and ![Logo⟨2⟩].');
    expect(referencesMarkdown).toBe('\n\n## References\n\n⟨1⟩ https://a.test/docs: Guide - Docs\n⟨2⟩ https://a.test/l.png: Logo\n');
  });
});

describe('fitContent', () => {
  const page =
    '<body><nav><a href="/">Home</a> <a href="/b">Blog</a></nav><div class="cookie-banner">We use cookies to improve things</div>' +
    '<main><h1>Birds</h1><p>Swallows migrate thousands of kilometres every autumn.</p>' +
    '<p>Penguins cannot fly but they swim remarkably well.</p><div><a href="/1">One</a> <a href="/2">Two</a></div></main>' +
    '<aside>Related posts here and there</aside><footer>© 2026 Example Inc. All rights reserved.</footer></body>';

  it('drops navigation, footers, sidebars, cookie banners and link farms', () => {
    const { fitMarkdown } = fitContent(page, { baseUrl: BASE });
    expect(fitMarkdown).toBe(
      '# Birds\n\nSwallows migrate thousands of kilometres every autumn.\n\nPenguins cannot fly but they swim remarkably well.',
    );
  });

  it('keeps only blocks matching a BM25 query, with their heading', () => {
    const { fitMarkdown } = fitContent(page, { baseUrl: BASE, query: 'penguin swimming' });
    expect(fitMarkdown).toBe('# Birds\n\nPenguins cannot fly but they swim remarkably well.');
  });

  it('scores a block with more query terms higher', () => {
    const [a, b, c] = bm25Scores(['cats and dogs', 'cats cats cats', 'birds'], 'cats');
    expect(b!).toBeGreaterThan(a!);
    expect(c).toBe(0);
  });
});

describe('generateMarkdown', () => {
  it('fills every Crawl4AI markdown field', () => {
    const result = generateMarkdown('<h1>T</h1><p>Read <a href="/x">the manual</a> carefully today.</p>', { baseUrl: BASE });
    expect(result.raw_markdown).toBe('# T\n\nRead [the manual](https://example.com/x) carefully today.');
    expect(result.markdown_with_citations).toBe('# T\n\nRead the manual⟨1⟩ carefully today.');
    expect(result.references_markdown).toContain('⟨1⟩ https://example.com/x: the manual');
    expect(result.fit_markdown).toBe(result.raw_markdown);
    expect(result.fit_html).toContain('<h1>T</h1>');
  });
});
