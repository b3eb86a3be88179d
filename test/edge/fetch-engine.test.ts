import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createFetchEngine } from '../../src/engines/fetch-engine';
import { fetchPage, PageFetchError } from '../../src/engines/fetch-page';
import { checkTargetUrl } from '../../src/crawl/egress';
import type { CrawlResult, EdgeCrawlOptions, EdgeEngine } from '../../src/crawl/types';

const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;
const LOCAL: EdgeCrawlOptions = { browserParams: {}, crawlerParams: {}, allowPrivateTargets: true };

async function crawlAll(engine: EdgeEngine, urls: string[], options: EdgeCrawlOptions = LOCAL): Promise<CrawlResult[]> {
  const results: CrawlResult[] = [];
  for await (const result of engine.crawl(urls, options)) results.push(result);
  return results;
}

async function crawlOne(url: string, options: EdgeCrawlOptions = LOCAL, engine = createFetchEngine()): Promise<CrawlResult> {
  const [result] = await crawlAll(engine, [url], options);
  return result!;
}

describe('fetch engine: content', () => {
  it('returns a Crawl4AI CrawlResult with markdown, metadata, links and media', async () => {
    const result = await crawlOne(`${SITE}/links`);
    expect(result).toMatchObject({
      url: `${SITE}/links`,
      success: true,
      status_code: 200,
      error_message: null,
      redirected_url: `${SITE}/links`,
    });
    expect(result.response_headers['x-fixture']).toBe('links');
    expect(result.metadata).toMatchObject({
      title: 'Links and media',
      description: 'A page with links and media',
      'og:title': 'OG links',
      'twitter:card': 'summary',
    });
    expect(result.links.internal).toEqual([
      { href: `${SITE}/`, text: 'Home' },
      { href: `${SITE}/about`, text: 'About' },
      { href: `${SITE}/docs/guide`, text: 'a relative one' },
    ]);
    expect(result.links.external).toEqual([
      { href: 'https://example.org/external', text: 'an external link' },
      { href: 'https://sub.example.org/x', text: 'another external' },
    ]);
    expect(result.media.images).toEqual([
      { src: `${SITE}/img/cat.png`, alt: 'A cat', type: 'image' },
      { src: `${SITE}/img/lazy.jpg`, alt: 'Lazy', type: 'image' },
    ]);
    expect(result.media.videos).toEqual([{ src: `${SITE}/media/clip.mp4`, type: 'video' }]);
    expect(result.media.audios).toEqual([{ src: `${SITE}/media/song.mp3`, type: 'audio' }]);
    const md = result.markdown!;
    expect(md.raw_markdown).toContain('# Crawl fixture');
    expect(md.raw_markdown).toContain(`[an internal link](${SITE}/about "About us")`);
    expect(md.raw_markdown).toContain('[Home]');
    expect(md.raw_markdown).not.toContain('script output');
    expect(md.markdown_with_citations).toContain('an internal link⟨');
    expect(md.references_markdown).toContain(`⟨2⟩ ${SITE}/about: About\n`);
    expect(md.fit_markdown).toContain('Styled paragraph with enough words to survive.');
    expect(md.fit_markdown).not.toContain('[Home]');
    expect(md.fit_markdown).not.toContain('Footer text');
  });

  it('cleans the HTML: no scripts, styles, frames, event handlers or javascript: URLs', async () => {
    const { cleaned_html: cleaned, html } = await crawlOne(`${SITE}/links`);
    expect(html).toContain('<script>');
    for (const banned of ['<script', '<style', '<iframe', 'onclick', 'onmouseover', 'javascript:', 'style="']) {
      expect(cleaned).not.toContain(banned);
    }
    expect(cleaned).toContain('Styled paragraph');
  });

  it('decodes a page by its <meta> charset (ISO-8859-1 → windows-1252)', async () => {
    const result = await crawlOne(`${SITE}/latin1`);
    expect(result.metadata.title).toBe('Café');
    expect(result.markdown!.raw_markdown).toBe('Café crème – naïve');
    expect(result.metadata.encoding).toBe('windows-1252');
  });

  it('decodes a page by its Content-Type charset (Shift_JIS)', async () => {
    const result = await crawlOne(`${SITE}/sjis`);
    expect(result.markdown!.raw_markdown).toBe('日本語');
  });

  it('sends its own User-Agent (or browser_config.user_agent) and no client credential', async () => {
    const result = await crawlOne(`${SITE}/echo-headers`, { ...LOCAL, browserParams: { user_agent: 'TestBot/1.0' } });
    const headers = JSON.parse(result.markdown!.raw_markdown.replace(/^```\n|\n```$/g, '')) as Record<string, string>;
    expect(headers['user-agent']).toBe('TestBot/1.0');
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
  });

  it('reports an HTTP error status as success:false with the page content', async () => {
    const result = await crawlOne(`${SITE}/missing`);
    expect(result).toMatchObject({ success: false, status_code: 404, error_message: 'HTTP 404' });
    expect(result.markdown!.raw_markdown).toContain('# Missing');
  });

  it('refuses binary content types', async () => {
    const result = await crawlOne(`${SITE}/binary`);
    expect(result.success).toBe(false);
    expect(result.error_message).toContain('unsupported content type image/png');
  });

  it('does not see content inserted by JavaScript', async () => {
    const result = await crawlOne(`${SITE}/js`);
    expect(result.markdown!.raw_markdown).toContain('Loading…');
    expect(result.markdown!.raw_markdown).not.toContain('Rendered by JavaScript');
  });

  it('yields one result per URL as each finishes (a slow page does not hold back a fast one)', async () => {
    const urls = [`${SITE}/slow?ms=1500`, `${SITE}/`, `${SITE}/pages/1`];
    const results = await crawlAll(createFetchEngine(), urls);
    expect(results.map((r) => r.url).sort()).toEqual([...urls].sort());
    expect(results.at(-1)!.url).toBe(`${SITE}/slow?ms=1500`);
  });
});

describe('fetch engine: limits', () => {
  it('stops reading a page past the byte cap and says so in metadata', async () => {
    const result = await crawlOne(`${SITE}/big?kb=4096`, LOCAL, createFetchEngine({ maxPageBytes: 256 * 1024 }));
    expect(result.success).toBe(true);
    expect(result.html.length).toBeLessThanOrEqual(256 * 1024);
    expect(result.html).not.toContain('end of the big page');
    expect(result.metadata.truncated).toBe(`true (first ${256 * 1024} bytes)`);
    expect(result.markdown!.raw_markdown).toContain('# Big page');
  });

  it('reads a page under the default cap whole', async () => {
    const result = await crawlOne(`${SITE}/big?kb=1024`);
    expect(result.html).toContain('end of the big page');
    expect(result.metadata.truncated).toBeUndefined();
  });

  it('times out a slow page at page_timeout', async () => {
    const result = await crawlOne(`${SITE}/slow?ms=5000`, { ...LOCAL, crawlerParams: { page_timeout: 1000 } });
    expect(result).toMatchObject({ success: false, error_message: 'page timed out after 1000 ms' });
  });
});

describe('fetch engine: redirects and egress', () => {
  it('follows a redirect chain and reports the final URL', async () => {
    const result = await crawlOne(`${SITE}/redirect/3`);
    expect(result).toMatchObject({ success: true, status_code: 200, url: `${SITE}/redirect/3`, redirected_url: `${SITE}/links` });
  });

  it('gives up after 5 redirects', async () => {
    const result = await crawlOne(`${SITE}/redirect/6`);
    expect(result).toMatchObject({ success: false, status_code: 302, error_message: 'more than 5 redirects' });
    expect((await crawlOne(`${SITE}/loop`)).error_message).toBe('more than 5 redirects');
  });

  it('refuses the target itself when the egress policy does', async () => {
    const result = await crawlOne(`${SITE}/`, { ...LOCAL, allowPrivateTargets: false });
    expect(result.success).toBe(false);
    expect(result.error_message).toMatch(/^target refused by the egress policy: /);
    expect(result.status_code).toBeNull();
  });

  it('re-checks the egress policy on a redirect hop to a private address (http://0x7f.1/)', async () => {
    // The first hop is allowed explicitly (the fixture lives on loopback); every later hop goes
    // through the real policy with private targets refused.
    const first = `${SITE}/to-private`;
    const check = (url: string) =>
      url === first ? checkTargetUrl(url, { allowPrivateTargets: true }) : checkTargetUrl(url, { allowPrivateTargets: false });
    const error = await fetchPage(first, {
      allowPrivateTargets: false,
      timeoutMs: 5000,
      maxBytes: 1024,
      maxRedirects: 5,
      userAgent: 'test',
      checkUrl: check,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PageFetchError);
    expect(error).toMatchObject({ kind: 'egress', status: 302 });
    expect((error as Error).message).toMatch(/^redirect to http:\/\/127\.0\.0\.1:\d+\/ refused by the egress policy: /);
  });

  it('refuses a redirect hop to the cloud metadata address even with private targets allowed', async () => {
    const result = await crawlOne(`${SITE}/to-metadata`);
    expect(result.success).toBe(false);
    expect(result.error_message).toMatch(
      /^redirect to http:\/\/169\.254\.169\.254\/latest\/meta-data\/ refused by the egress policy: cloud metadata/,
    );
  });

  it('with private targets allowed, still follows a redirect to loopback', async () => {
    const result = await crawlOne(`${SITE}/to-private`);
    expect(result).toMatchObject({ success: true, redirected_url: `${SITE}/` });
  });
});
