/** docs/crawling.md shows the crawl-option table generated from the code: stale → fail. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withOptionsDoc } from '../../src/crawl/options/doc';

describe('docs/crawling.md "Crawl options"', () => {
  it('is the table in src/crawl/options (run `npm run docs:crawl-options` after changing it)', () => {
    const page = readFileSync(new URL('../../docs/crawling.md', import.meta.url), 'utf8');
    expect(withOptionsDoc(page)).toBe(page);
  });
});
