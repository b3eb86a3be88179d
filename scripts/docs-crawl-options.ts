/**
 * Regenerates the crawl-option table in docs/crawling.md from src/crawl/options/table.ts
 * (`npm run docs:crawl-options`). test/node/crawl-options-doc.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withOptionsDoc, classCounts } from '../src/crawl/options/doc';

const path = new URL('../docs/crawling.md', import.meta.url);
const page = readFileSync(path, 'utf8');
const next = withOptionsDoc(page);
if (next === null) {
  console.error('docs/crawling.md has no crawl-options markers');
  process.exit(1);
}
writeFileSync(path, next);
console.log('docs/crawling.md updated:', JSON.stringify(classCounts()));
