/**
 * Hostile pages through the edge pipeline (issue #18): every shape finishes, its output stays
 * within a constant factor of its input, the caps that applied are in `warnings`, and the gateway
 * answers the next request. Speed is measured by `npm run bench:parsers`, not asserted here.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { generateMarkdown, toCitations, PageNotes, PAGE_LIMITS } from '../../src/engines/markdown';
import { parseHtml } from '../../src/engines/markdown/html-tree';
import { buildResult } from '../../src/engines/result';
import { HOSTILE_SHAPES } from '../helpers/hostile-pages';
import { callAs, credentialFor } from '../helpers/principal';

const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;
const EDGE = { vars: { ORIGIN_URL: '', ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development' } };
const user = credentialFor({ id: 'key_hostile_user', permissions: ['crawl:run'] });
const BYTES = 120_000;

function depthOf(html: string): number {
  let max = 0;
  const walk = (node: ReturnType<typeof parseHtml>, d: number) => {
    max = Math.max(max, d);
    for (const c of node.children) if (c.type === 'element') walk(c, d + 1);
  };
  walk(parseHtml(html), 0);
  return max;
}

describe('the page pipeline on hostile shapes', () => {
  for (const [name, make] of Object.entries(HOSTILE_SHAPES)) {
    it(`turns "${name}" into a result whose size is linear in the page`, { timeout: 30_000 }, async () => {
      const html = make(BYTES);
      const result = await buildResult({ url: 'https://h.test/', finalUrl: 'https://h.test/', status: 200, html, headers: {} });
      const md = result.markdown!;
      const out =
        md.raw_markdown.length +
        md.markdown_with_citations.length +
        md.references_markdown.length +
        md.fit_markdown.length +
        (md.fit_html?.length ?? 0) +
        result.cleaned_html.length;
      expect(out).toBeLessThan(html.length * 40 + 10_000);
      expect(result.links.internal.length + result.links.external.length).toBeLessThanOrEqual(PAGE_LIMITS.maxLinks);
    });
  }

  it('flattens nesting deeper than the cap and says so', () => {
    const notes = new PageNotes();
    const html = HOSTILE_SHAPES['nested-divs']!(50_000);
    expect(depthOf(html)).toBeLessThanOrEqual(PAGE_LIMITS.maxDepth + 1);
    generateMarkdown(html, { notes });
    expect(notes.list().map((w) => w.code)).toContain('nesting_flattened');
  });

  it('lists at most maxLinks links and reports the cap in warnings', { timeout: 60_000 }, async () => {
    const html = HOSTILE_SHAPES['many-distinct-links']!(24 * (PAGE_LIMITS.maxLinks + 500));
    const result = await buildResult({ url: 'https://h.test/', finalUrl: 'https://h.test/', status: 200, html, headers: {} });
    expect(result.links.internal).toHaveLength(PAGE_LIMITS.maxLinks);
    expect(result.warnings?.map((w) => w.code)).toContain('links_capped');
  });

  it('cuts an attribute past the length cap, drops an over-long URL, and keeps the rest of the page', () => {
    const notes = new PageNotes();
    const long = 'x'.repeat(PAGE_LIMITS.maxAttributeChars + 1);
    const md = generateMarkdown(`<a href="/${long}">dropped link</a> <img alt="${long}" src="/i.png"> <p>after</p>`, {
      baseUrl: 'https://h.test/',
      notes,
    });
    expect(md.raw_markdown).toContain('dropped link');
    expect(md.raw_markdown).not.toContain('](https://h.test/x');
    expect(md.raw_markdown).toContain('after');
    expect(
      notes
        .list()
        .map((w) => w.code)
        .sort(),
    ).toEqual(['attribute_dropped', 'attribute_truncated']);
  });

  it('reads tags and entities named like Object.prototype members as ordinary ones', () => {
    const md = generateMarkdown('<constructor>a</constructor> &constructor; <p __proto__="x">b</p>');
    expect(md.raw_markdown).toBe('a &constructor;\n\nb');
  });

  it('still cites the links of an ordinary text after a run of brackets', () => {
    const { markdownWithCitations } = toCitations(`${'['.repeat(50_000)} see [Docs](https://a.test/d) and ![i](https://a.test/i.png)`);
    expect(markdownWithCitations.endsWith(' see Docs⟨1⟩ and ![i⟨2⟩]')).toBe(true);
  });

  it('indents quotes and lists only to the prefix cap', () => {
    const notes = new PageNotes();
    const md = generateMarkdown(`${'<blockquote>'.repeat(40)}deep`, { notes });
    expect(md.raw_markdown).toBe(`${'> '.repeat(PAGE_LIMITS.maxPrefixDepth)}deep`);
    expect(notes.list().map((w) => w.code)).toContain('prefix_depth');
  });
});

describe('hostile pages through POST /md (fetch engine)', { timeout: 60_000 }, () => {
  it('answers a page of 120,000 "[" and stays healthy for the next request', async () => {
    const res = await callAs(user, '/md', { ...EDGE, json: { url: `${SITE}/hostile/open-brackets?kb=118`, f: 'raw' } });
    expect(res.status).toBe(200);
    expect((await res.json<{ success: boolean; markdown: string }>()).markdown.length).toBeGreaterThan(100_000);
    const next = await callAs(user, '/md', { ...EDGE, json: { url: `${SITE}/`, f: 'raw' } });
    expect(next.status).toBe(200);
  });

  it('answers deeply mis-nested tags with the cap in warnings, and the next request works', async () => {
    const mis = await callAs(user, '/md', { ...EDGE, json: { url: `${SITE}/hostile/misnested-inline?kb=256`, f: 'raw' } });
    expect(mis.status).toBe(200);
    const res = await callAs(user, '/md', { ...EDGE, json: { url: `${SITE}/hostile/nested-bold?kb=256`, f: 'raw' } });
    expect(res.status).toBe(200);
    const body = await res.json<{ success: boolean; warnings: Array<{ code: string; detail: string }> }>();
    expect(body.success).toBe(true);
    expect(body.warnings.map((w) => w.code)).toContain('nesting_flattened');
    const next = await callAs(user, '/html', { ...EDGE, json: { url: `${SITE}/` } });
    expect(next.status).toBe(200);
  });
});

describe('POST /crawl at the edge: response budget', { timeout: 60_000 }, () => {
  it('answers results past EDGE_CRAWL_RESPONSE_BUDGET_BYTES with stubs naming /crawl/stream and /jobs', async () => {
    const urls = [1, 2, 3, 4].map((n) => `${SITE}/hostile/ordinary?kb=4&n=${n}`);
    const res = await callAs(user, '/crawl', {
      vars: { ...EDGE.vars, EDGE_CRAWL_RESPONSE_BUDGET_BYTES: '65536' },
      json: { urls, engine: 'fetch' },
    });
    expect(res.status).toBe(200);
    const body = await res.json<{
      success: boolean;
      results: Array<{ url: string; success: boolean; error_code?: string; error_message: string | null }>;
    }>();
    expect(body.results.map((r) => r.url).sort()).toEqual([...urls].sort());
    const full = body.results.filter((r) => r.success);
    const stubs = body.results.filter((r) => r.error_code === 'response_budget_exceeded');
    expect(full.length).toBeGreaterThanOrEqual(1);
    expect(stubs.length).toBeGreaterThanOrEqual(1);
    expect(full.length + stubs.length).toBe(4);
    expect(stubs[0]!.error_message).toContain('/crawl/stream');
    expect(stubs[0]!.error_message).toContain('/jobs');
  });

  it('answers every result in full under the default budget', async () => {
    const urls = [1, 2].map((n) => `${SITE}/hostile/ordinary?kb=16&n=${n}`);
    const res = await callAs(user, '/crawl', { ...EDGE, json: { urls, engine: 'fetch' } });
    const body = await res.json<{ results: Array<{ success: boolean }> }>();
    expect(body.results.map((r) => r.success)).toEqual([true, true]);
  });
});
