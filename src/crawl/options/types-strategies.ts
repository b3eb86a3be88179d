/**
 * Allow-list of the strategy objects a `CrawlerRunConfig` may hold (Crawl4AI 0.9.2): extraction,
 * chunking, markdown generation, content filters, table extraction, scraping, and `LLMConfig`.
 */
import type { TypeSpec } from './kinds';
import { bool, capability, either, int, listOf, mapOf, never, num, obj, oneOf, safe, scalar, str, typed } from './kinds';
import { LLM, LLM_TYPES, deprecatedLlm, llmConfig } from './types-llm';

export { llmEndpointRule } from './types-llm';

const regex = str(1000);
const field = 'ExtractionField';
const FIELD_TYPES = ['text', 'attribute', 'html', 'regex', 'nested', 'list', 'nested_list', 'computed'];

export const STRATEGY_TYPES: Record<string, TypeSpec> = {
  JsonCssExtractionStrategy: {
    source: 'crawl4ai.extraction_strategy.JsonCssExtractionStrategy',
    fields: {
      schema: safe(obj('ExtractionSchema'), 'the extraction schema'),
      verbose: safe(bool, 'origin-side logging'),
      input_format: safe(oneOf('html'), 'forced to html by Crawl4AI'),
    },
  },
  JsonXPathExtractionStrategy: {
    source: 'crawl4ai.extraction_strategy.JsonXPathExtractionStrategy',
    fields: {
      schema: safe(obj('ExtractionSchema'), 'the extraction schema (XPath selectors, evaluated by lxml)'),
      verbose: safe(bool, 'origin-side logging'),
      input_format: safe(oneOf('html'), 'forced to html by Crawl4AI'),
    },
  },
  JsonLxmlExtractionStrategy: {
    source: 'crawl4ai.extraction_strategy.JsonLxmlExtractionStrategy',
    fields: {
      schema: safe(obj('ExtractionSchema'), 'the extraction schema'),
      verbose: safe(bool, 'origin-side logging'),
      input_format: safe(oneOf('html'), 'forced to html by Crawl4AI'),
      use_caching: safe(bool, 'selector caching'),
      optimize_common_patterns: safe(bool, 'selector optimisation'),
    },
  },
  ExtractionSchema: {
    source: 'JsonElementExtractionStrategy schema (dict)',
    fields: {
      name: safe(str(200), 'schema name'),
      baseSelector: safe(str(2000), 'selector of the repeated element (lxml/BeautifulSoup)'),
      baseFields: safe(listOf(obj(field), 200), 'fields read from the base element'),
      fields: safe(listOf(obj(field), 200), 'fields read inside the base element'),
    },
  },
  ExtractionField: {
    source: 'JsonElementExtractionStrategy field (dict)',
    fields: {
      name: safe(str(200), 'output key'),
      selector: safe(str(2000), 'CSS or XPath selector (lxml/BeautifulSoup)'),
      type: safe(either(oneOf(...FIELD_TYPES), listOf(oneOf(...FIELD_TYPES), 10)), 'extraction step(s)'),
      attribute: safe(str(200), 'attribute name'),
      pattern: safe(regex, 'Python regular expression'),
      group: safe(int(0, 100), 'regex group'),
      transform: safe(oneOf('lowercase', 'uppercase', 'strip'), 'text transform'),
      default: safe(scalar, 'value when nothing matches'),
      fields: safe(listOf(obj(field), 200), 'nested fields'),
      source: safe(str(2000), 'sibling selector (`+ tr`)'),
      expression: never('a Python expression Crawl4AI ≤ 0.7 evaluates with eval() on the origin'),
      function: never('a Python callable'),
    },
  },
  RegexExtractionStrategy: {
    source: 'crawl4ai.extraction_strategy.RegexExtractionStrategy',
    fields: {
      pattern: safe(int(0, 2 ** 24), 'built-in pattern flags'),
      custom: safe(either(mapOf(regex, 50, /^[\w.-]{1,100}$/), listOf(listOf(str(1000), 2), 50)), 'label → Python regular expression'),
      input_format: safe(oneOf('html', 'markdown', 'text', 'fit_html'), 'text the patterns run over'),
      verbose: safe(bool, 'origin-side logging'),
    },
  },
  CosineStrategy: {
    source: 'crawl4ai.extraction_strategy.CosineStrategy',
    fields: {
      semantic_filter: safe(str(2000), 'query for semantic filtering'),
      word_count_threshold: safe(int(0, 100_000), 'minimum words per cluster'),
      max_dist: safe(num(0, 10), 'cluster distance'),
      linkage_method: safe(oneOf('ward', 'complete', 'average', 'single'), 'clustering linkage'),
      top_k: safe(int(1, 100), 'clusters kept'),
      model_name: safe(str(200), 'embedding model', {
        escalate: {
          cls: 'never',
          applies: (v) => v !== 'sentence-transformers/all-MiniLM-L6-v2',
          when: 'unless it is the default model (another name makes the origin download and load model weights)',
        },
      }),
      sim_threshold: safe(num(0, 1), 'similarity threshold'),
      verbose: safe(bool, 'origin-side logging'),
    },
  },
  LLMExtractionStrategy: {
    source: 'crawl4ai.extraction_strategy.LLMExtractionStrategy',
    permission: LLM,
    fields: {
      llm_config: llmConfig,
      instruction: capability(LLM, str(20_000), 'prompt'),
      schema: capability(
        LLM,
        mapOf(
          either(
            str(10_000),
            num(-1e15, 1e15),
            bool,
            mapOf(either(str(10_000), num(-1e15, 1e15), bool, listOf(str(1000), 100)), 100),
            listOf(str(1000), 100),
          ),
          200,
        ),
        'JSON schema of the answer',
      ),
      extraction_type: capability(LLM, oneOf('schema', 'block'), 'answer shape'),
      chunk_token_threshold: capability(LLM, int(1, 1_000_000_000), 'tokens per chunk'),
      overlap_rate: capability(LLM, num(0, 1), 'chunk overlap'),
      word_token_rate: capability(LLM, num(0, 10), 'tokens per word'),
      apply_chunking: capability(LLM, bool, 'chunking on/off'),
      input_format: capability(LLM, oneOf('markdown', 'html', 'fit_markdown', 'cleaned_html', 'fit_html'), 'text sent to the LLM'),
      force_json_response: capability(LLM, bool, 'JSON mode'),
      verbose: capability(LLM, bool, 'origin-side logging'),
      ...deprecatedLlm,
    },
  },
  ...LLM_TYPES,
  RegexChunking: {
    source: 'crawl4ai.chunking_strategy.RegexChunking',
    fields: { patterns: safe(listOf(regex, 20), 'Python regular expressions to split on') },
  },
  DefaultMarkdownGenerator: {
    source: 'crawl4ai.markdown_generation_strategy.DefaultMarkdownGenerator',
    fields: {
      content_filter: safe(
        typed(['PruningContentFilter', 'BM25ContentFilter', 'LLMContentFilter']),
        'fit_markdown filter (the LLM one needs crawl:llm)',
      ),
      options: safe(obj('MarkdownOptions'), 'html2text options'),
      content_source: safe(oneOf('cleaned_html', 'raw_html', 'fit_html'), 'HTML the markdown is made from'),
    },
  },
  MarkdownOptions: {
    source: 'crawl4ai.html2text options (set with setattr on the converter, so only known names)',
    fields: Object.fromEntries(
      [
        'ignore_links',
        'ignore_images',
        'ignore_emphasis',
        'ignore_tables',
        'ignore_mailto_links',
        'bypass_tables',
        'escape_html',
        'escape_snob',
        'escape_backslash',
        'escape_dot',
        'escape_plus',
        'escape_dash',
        'skip_internal_links',
        'inline_links',
        'protect_links',
        'wrap_links',
        'wrap_list_items',
        'wrap_tables',
        'pad_tables',
        'single_line_break',
        'mark_code',
        'handle_code_in_pre',
        'include_sup_sub',
        'images_as_html',
        'images_to_alt',
        'images_with_size',
        'unicode_snob',
        'links_each_paragraph',
        'use_automatic_links',
        'hide_strikethrough',
        'citations',
      ]
        .map((k) => [k, safe(bool, 'html2text switch')] as const)
        .concat([
          ['body_width', safe(int(0, 10_000), 'line width (0 = no wrapping)')],
          ['default_image_alt', safe(str(200), 'alt text for images without one')],
          ['preserve_tags', safe(listOf(str(64, /^[A-Za-z][A-Za-z0-9-]*$/), 50), 'tags kept as HTML')],
        ]),
    ),
  },
  PruningContentFilter: {
    source: 'crawl4ai.content_filter_strategy.PruningContentFilter',
    fields: {
      user_query: safe(str(2000), 'query'),
      min_word_threshold: safe(int(0, 100_000), 'minimum words per block'),
      threshold_type: safe(oneOf('fixed', 'dynamic'), 'threshold type'),
      threshold: safe(num(0, 100), 'pruning threshold'),
      preserve_classes: safe(listOf(str(200), 100), 'classes never pruned'),
      preserve_tags: safe(listOf(str(64), 100), 'tags never pruned'),
    },
  },
  BM25ContentFilter: {
    source: 'crawl4ai.content_filter_strategy.BM25ContentFilter',
    fields: {
      user_query: safe(str(2000), 'query'),
      bm25_threshold: safe(num(0, 1000), 'BM25 threshold'),
      language: safe(str(50, /^[a-z]+$/), 'stemmer language'),
      use_stemming: safe(bool, 'stemming on/off'),
    },
  },
  LLMContentFilter: {
    source: 'crawl4ai.content_filter_strategy.LLMContentFilter',
    permission: LLM,
    fields: {
      llm_config: llmConfig,
      instruction: capability(LLM, str(20_000), 'prompt'),
      chunk_token_threshold: capability(LLM, int(1, 1_000_000_000), 'tokens per chunk'),
      overlap_rate: capability(LLM, num(0, 1), 'chunk overlap'),
      word_token_rate: capability(LLM, num(0, 10), 'tokens per word'),
      verbose: capability(LLM, bool, 'origin-side logging'),
      ignore_cache: capability(LLM, bool, 'LLM answer cache'),
      ...deprecatedLlm,
    },
  },
  DefaultTableExtraction: {
    source: 'crawl4ai.table_extraction.DefaultTableExtraction',
    fields: {
      table_score_threshold: safe(int(-100, 100), 'table score threshold'),
      min_rows: safe(int(0, 10_000), 'minimum rows'),
      min_cols: safe(int(0, 1000), 'minimum columns'),
      verbose: safe(bool, 'origin-side logging'),
    },
  },
  NoTableExtraction: { source: 'crawl4ai.table_extraction.NoTableExtraction', fields: {} },
  LLMTableExtraction: {
    source: 'crawl4ai.table_extraction.LLMTableExtraction',
    permission: LLM,
    fields: {
      llm_config: llmConfig,
      css_selector: capability(LLM, str(2000), 'tables to send (lxml)'),
      max_tries: capability(LLM, int(1, 10), 'retries'),
      enable_chunking: capability(LLM, bool, 'chunking on/off'),
      chunk_token_threshold: capability(LLM, int(1, 1_000_000), 'tokens per chunk'),
      min_rows_per_chunk: capability(LLM, int(1, 10_000), 'rows per chunk'),
      max_parallel_chunks: capability(LLM, int(1, 20), 'chunks at once'),
      verbose: capability(LLM, bool, 'origin-side logging'),
      extra_args: deprecatedLlm.extra_args,
    },
  },
  LXMLWebScrapingStrategy: {
    source: 'crawl4ai.content_scraping_strategy.LXMLWebScrapingStrategy',
    fields: { logger: never('a Python logger object') },
  },
  PDFContentScrapingStrategy: {
    source: 'crawl4ai.processors.pdf.PDFContentScrapingStrategy',
    fields: {
      extract_images: safe(bool, 'extracts images from the PDF'),
      batch_size: safe(int(1, 32), 'pages per batch'),
      save_images_locally: never("writes images to the origin's disk"),
      image_save_dir: never('a directory on the origin host'),
      logger: never('a Python logger object'),
    },
  },
};
