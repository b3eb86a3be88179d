/**
 * Allow-list of Crawl4AI's deep-crawl strategies and their URL filters and scorers
 * (crawl4ai/deep_crawling, 0.9.2). A deep crawl that stays on the start domain within
 * `DEEP_CRAWL_MAX_DEPTH` / `DEEP_CRAWL_MAX_PAGES` is `safe`; beyond that it needs `crawl:deep`.
 * The gateway cannot check the links the origin discovers, which is why the bound matters.
 */
import type { Escalation, FieldSpec, ObjectRule, TypeSpec } from './kinds';
import { bool, either, int, listOf, mapOf, never, num, safe, str, typed } from './kinds';

const DEEP = 'crawl:deep' as const;

const beyondDepth: Escalation = {
  cls: 'capability',
  permission: DEEP,
  applies: (v, l) => typeof v === 'number' && v > l.deepCrawlMaxDepth,
  when: 'above DEEP_CRAWL_MAX_DEPTH',
};
const beyondPages: Escalation = {
  cls: 'capability',
  permission: DEEP,
  applies: (v, l) => typeof v === 'number' && v > l.deepCrawlMaxPages,
  when: 'above DEEP_CRAWL_MAX_PAGES',
};
const offDomain: Escalation = {
  cls: 'capability',
  permission: DEEP,
  applies: (v) => v === true,
  when: 'when true (follows links off the start domain)',
};

/** Crawl4AI's default `max_pages` is infinite: without one, the crawl is unbounded. */
const boundedPages: ObjectRule = (o) =>
  typeof o.max_pages === 'number'
    ? []
    : [{ field: 'max_pages', cls: 'capability', permission: DEEP, message: 'a deep crawl without max_pages is unbounded' }];

const FILTERS = ['URLPatternFilter', 'DomainFilter', 'ContentTypeFilter', 'ContentRelevanceFilter', 'SEOFilter'];
const SCORERS = ['KeywordRelevanceScorer', 'PathDepthScorer', 'FreshnessScorer', 'DomainAuthorityScorer', 'CompositeScorer'];

const strategyFields: Record<string, FieldSpec> = {
  max_depth: safe(int(0, 100), 'link depth from the start URL', { escalate: beyondDepth }),
  filter_chain: safe(typed(['FilterChain']), 'URL filters'),
  url_scorer: safe(typed(SCORERS), 'URL scoring'),
  include_external: safe(bool, 'follows links to other domains', { escalate: offDomain }),
  score_threshold: safe(num(-1e9, 1e9), 'minimum URL score'),
  max_pages: safe(int(1, 1_000_000), 'pages crawled in total (required for crawl:run)', { escalate: beyondPages }),
  logger: never('a Python logger object'),
  resume_state: never('restores a queue of URLs the gateway never egress-checked'),
  on_state_change: never('a Python callable'),
  should_cancel: never('a Python callable'),
};

const strategy = (name: string): TypeSpec => ({ source: `crawl4ai.deep_crawling.${name}`, fields: strategyFields, rules: [boundedPages] });
const domains = either(str(253, /^[A-Za-z0-9.*-]{1,253}$/), listOf(str(253, /^[A-Za-z0-9.*-]{1,253}$/), 500));
const words = listOf(str(200), 100);

export const DEEP_TYPES: Record<string, TypeSpec> = {
  BFSDeepCrawlStrategy: strategy('BFSDeepCrawlStrategy'),
  DFSDeepCrawlStrategy: strategy('DFSDeepCrawlStrategy'),
  BestFirstCrawlingStrategy: strategy('BestFirstCrawlingStrategy'),
  FilterChain: {
    source: 'crawl4ai.deep_crawling.filters.FilterChain',
    fields: { filters: safe(listOf(typed(FILTERS), 50), 'filters, all must pass') },
  },
  URLPatternFilter: {
    source: 'crawl4ai.deep_crawling.filters.URLPatternFilter',
    fields: {
      patterns: safe(either(str(1000), listOf(str(1000), 100)), 'glob (or regex) URL patterns'),
      use_glob: safe(bool, 'glob or regex'),
      reverse: safe(bool, 'exclude instead of include'),
    },
  },
  DomainFilter: {
    source: 'crawl4ai.deep_crawling.filters.DomainFilter',
    fields: { allowed_domains: safe(domains, 'domains kept (narrows, never widens)'), blocked_domains: safe(domains, 'domains dropped') },
  },
  ContentTypeFilter: {
    source: 'crawl4ai.deep_crawling.filters.ContentTypeFilter',
    fields: {
      allowed_types: safe(either(str(100), listOf(str(100), 50)), 'MIME types kept'),
      check_extension: safe(bool, 'judge by extension'),
      ext_map: safe(mapOf(str(100), 200, /^[A-Za-z0-9]{1,20}$/), 'extension → MIME type'),
    },
  },
  ContentRelevanceFilter: {
    source: 'crawl4ai.deep_crawling.filters.ContentRelevanceFilter',
    fields: {
      query: safe(either(str(2000), words), 'BM25 query over page heads'),
      threshold: safe(num(0, 1000), 'minimum score'),
      k1: safe(num(0, 10), 'BM25 k1'),
      b: safe(num(0, 1), 'BM25 b'),
      avgdl: safe(int(1, 1_000_000), 'average document length'),
    },
  },
  SEOFilter: {
    source: 'crawl4ai.deep_crawling.filters.SEOFilter',
    fields: {
      threshold: safe(num(0, 1), 'minimum SEO score'),
      keywords: safe(words, 'keywords'),
      weights: safe(mapOf(num(0, 100), 20, /^[a-z_]{1,50}$/), 'signal weights'),
    },
  },
  KeywordRelevanceScorer: {
    source: 'crawl4ai.deep_crawling.scorers.KeywordRelevanceScorer',
    fields: { keywords: safe(words, 'keywords'), weight: safe(num(-100, 100), 'weight'), case_sensitive: safe(bool, 'case sensitivity') },
  },
  PathDepthScorer: {
    source: 'crawl4ai.deep_crawling.scorers.PathDepthScorer',
    fields: { optimal_depth: safe(int(0, 100), 'preferred path depth'), weight: safe(num(-100, 100), 'weight') },
  },
  FreshnessScorer: {
    source: 'crawl4ai.deep_crawling.scorers.FreshnessScorer',
    fields: { weight: safe(num(-100, 100), 'weight'), current_year: safe(int(1990, 3000), 'reference year') },
  },
  DomainAuthorityScorer: {
    source: 'crawl4ai.deep_crawling.scorers.DomainAuthorityScorer',
    fields: {
      domain_weights: safe(mapOf(num(0, 100), 500, /^[A-Za-z0-9.-]{1,253}$/), 'domain → weight'),
      default_weight: safe(num(0, 100), 'other domains'),
      weight: safe(num(-100, 100), 'weight'),
    },
  },
  CompositeScorer: {
    source: 'crawl4ai.deep_crawling.scorers.CompositeScorer',
    fields: { scorers: safe(listOf(typed(SCORERS), 20), 'scorers combined'), normalize: safe(bool, 'normalise the sum') },
  },
};
