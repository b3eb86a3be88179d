/**
 * Legitimate Crawl4AI payloads (the seed's example and Crawl4AI 0.9.2's documented examples:
 * deploy/docker/README.md, docs/md_v2 extraction / markdown / deep-crawl pages), written with the
 * canonical URLs the gateway forwards, so "forwarded unchanged" is an exact comparison.
 */
import type { BodyShape } from '../../src/crawl/options/table';

const run = (params: Record<string, unknown>) => ({ type: 'CrawlerRunConfig', params });

export const LEGIT_BODIES: Record<string, { shape: BodyShape; route: string; body: Record<string, unknown> }> = {
  'the seed\'s "Using API with API Key" example': {
    shape: 'crawl',
    route: '/crawl',
    body: {
      urls: ['https://example.com/'],
      browser_config: { type: 'BrowserConfig', params: { headless: true } },
      crawler_config: run({ cache_mode: 'bypass' }),
    },
  },
  'README streaming example (viewport as a type:dict wrapper)': {
    shape: 'crawl',
    route: '/crawl/stream',
    body: {
      urls: ['https://httpbin.org/html', 'https://httpbin.org/links/5/0'],
      browser_config: {
        type: 'BrowserConfig',
        params: { headless: true, viewport: { type: 'dict', value: { width: 1200, height: 800 } } },
      },
      crawler_config: run({ stream: true, cache_mode: 'bypass' }),
    },
  },
  'README CSS extraction (schema as a type:dict wrapper)': {
    shape: 'crawl',
    route: '/crawl',
    body: {
      urls: ['https://example.com/blog'],
      crawler_config: run({
        extraction_strategy: {
          type: 'JsonCssExtractionStrategy',
          params: {
            schema: {
              type: 'dict',
              value: {
                baseSelector: 'article.post',
                fields: [
                  { name: 'title', selector: 'h1', type: 'text' },
                  { name: 'content', selector: '.content', type: 'html' },
                ],
              },
            },
          },
        },
      }),
    },
  },
  'XPath extraction with nested lists, attributes and transforms': {
    shape: 'crawl',
    route: '/crawl',
    body: {
      urls: ['https://example.com/products'],
      crawler_config: run({
        cache_mode: { type: 'CacheMode', params: 'bypass' },
        extraction_strategy: {
          type: 'JsonXPathExtractionStrategy',
          params: {
            schema: {
              name: 'Products',
              baseSelector: "//div[@class='product']",
              baseFields: [{ name: 'sku', type: 'attribute', attribute: 'data-sku' }],
              fields: [
                { name: 'name', selector: './/h2', type: 'text', transform: 'strip' },
                { name: 'price', selector: ".//span[@class='price']", type: 'regex', pattern: '\\$(\\d+\\.\\d{2})', default: null },
                { name: 'tags', selector: './/ul/li', type: 'list', fields: [{ name: 'tag', type: 'text' }] },
              ],
            },
          },
        },
      }),
    },
  },
  'markdown with a pruning content filter and html2text options': {
    shape: 'crawl',
    route: '/crawl',
    body: {
      urls: ['https://example.com/'],
      crawler_config: run({
        markdown_generator: {
          type: 'DefaultMarkdownGenerator',
          params: {
            content_filter: { type: 'PruningContentFilter', params: { threshold: 0.48, threshold_type: 'fixed', min_word_threshold: 0 } },
            options: { ignore_links: true, body_width: 80 },
          },
        },
        excluded_tags: ['nav', 'footer'],
        wait_for: 'css:main article',
        css_selector: 'main',
      }),
    },
  },
  'markdown with a BM25 content filter': {
    shape: 'crawl',
    route: '/crawl',
    body: {
      urls: ['https://example.com/'],
      crawler_config: run({
        markdown_generator: {
          type: 'DefaultMarkdownGenerator',
          params: { content_filter: { type: 'BM25ContentFilter', params: { user_query: 'pricing plans', bm25_threshold: 1.2 } } },
        },
      }),
    },
  },
  'a bounded same-domain BFS deep crawl with filters and a scorer': {
    shape: 'crawl',
    route: '/crawl',
    body: {
      urls: ['https://docs.example.com/'],
      crawler_config: run({
        deep_crawl_strategy: {
          type: 'BFSDeepCrawlStrategy',
          params: {
            max_depth: 2,
            max_pages: 10,
            include_external: false,
            filter_chain: {
              type: 'FilterChain',
              params: {
                filters: [
                  { type: 'URLPatternFilter', params: { patterns: ['*guide*'] } },
                  { type: 'DomainFilter', params: { allowed_domains: ['docs.example.com'] } },
                ],
              },
            },
            url_scorer: { type: 'KeywordRelevanceScorer', params: { keywords: ['crawl', 'config'], weight: 0.7 } },
          },
        },
        cache_mode: 'bypass',
      }),
    },
  },
  'declarative hooks (Crawl4AI 0.9)': {
    shape: 'crawl',
    route: '/crawl',
    body: {
      urls: ['https://example.com/'],
      hooks: {
        hooks: [
          { action: 'block_resources', params: { resource_types: ['image', 'font'] } },
          { action: 'scroll_to_bottom', params: { max_steps: 10, delay_ms: 500 } },
        ],
        timeout: 30,
      },
    },
  },
  '/md with the fit filter': { shape: 'md', route: '/md', body: { url: 'https://example.com/', f: 'fit', q: null, c: '0' } },
  '/md with the bm25 filter and a query': { shape: 'md', route: '/md', body: { url: 'https://example.com/', f: 'bm25', q: 'pricing' } },
  '/screenshot with a delay': { shape: 'screenshot', route: '/screenshot', body: { url: 'https://example.com/', screenshot_wait_for: 2 } },
};
