/**
 * The exports issue's "done when", end to end on a real job: 1,000 pages crawled by the jobs
 * machinery (every 5th one hostile: quotes, commas, newlines, markup, formulas, unicode) export in
 * all six formats, compressed, and standard parsers read back exactly the job's records.
 */
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor } from '../helpers/principal';
import { bytesOf, decompress, expectLossless, td } from '../exports/fixtures';
import type { CrawlResult } from '../../src/crawl/types';
import type { ExportFormat } from '../../src/exports/formats';
import { finished, newRun, siteUrl, submit, waitFor } from './helpers';

const alice = credentialFor({
  rateLimit: '200/second',
  id: 'usr_exp_alice',
  name: 'exp-alice',
  kind: 'user',
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});
const bob = credentialFor({
  rateLimit: '200/second',
  id: 'usr_exp_bob',
  name: 'exp-bob',
  kind: 'user',
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});

describe('exports of a real 1,000-page job', () => {
  it('exports in all six formats, gzip and deflate, parsed back losslessly', async () => {
    const run = newRun('export');
    const urls = Array.from({ length: 1000 }, (_, i) => siteUrl(`/p/${run}/${i}${i % 5 === 0 ? '?hostile=1' : ''}`));
    const id = await submit(alice, { urls, engine: 'fetch' });
    const done = await waitFor(alice, id, finished, 180_000);
    expect(done.counts.done).toBe(1000);

    // The truth: the job's records as the results API streams them.
    const nd = await callAs(alice, `/jobs/${id}/results?format=ndjson`);
    expect(nd.headers.get('Content-Type')).toBe('application/x-ndjson');
    const records = (await nd.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as CrawlResult);
    expect(records.map((r) => r.url)).toEqual(urls);
    expect(records[5]!.markdown!.raw_markdown).toContain('<script>alert(5)</script>');

    const formats: [ExportFormat, 'gzip' | 'deflate'][] = [
      ['json', 'gzip'],
      ['ndjson', 'gzip'],
      ['csv', 'gzip'],
      ['xml', 'deflate'],
      ['markdown', 'gzip'],
      ['html', 'deflate'],
    ];
    for (const [format, compression] of formats) {
      const res = await callAs(alice, `/jobs/${id}/export?format=${format}&compression=${compression}`);
      expect(res.status, format).toBe(200);
      expectLossless(format, td(await decompress(await bytesOf(res.body!), compression)), records);
    }

    // Another tenant sees neither the job, its results nor its export.
    for (const path of [`/jobs/${id}`, `/jobs/${id}/results`, `/jobs/${id}/export?format=json`])
      expect((await callAs(bob, path)).status).toBe(404);
  }, 240_000);
});
