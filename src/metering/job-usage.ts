/**
 * Job pages in the usage rollups: each batch the queue consumer finishes adds its final pages
 * (done, failed) to route `job` on the job's engine, in the same D1 batch as the job's results.
 * Credits stay 0 here: a job is charged when it is submitted (its URLs × the page price).
 */
import type { BatchWork, PageOutcome } from '../jobs/types';
import { attribution } from './meter';
import { dayOf, rollupStatement } from './rollup';

export function jobPagesStatement(db: D1Database, work: BatchWork, outcomes: PageOutcome[], now: number): D1PreparedStatement {
  const final = outcomes.filter((o) => o.kind !== 'retry');
  const ms = final.reduce((n, o) => n + o.durationMs, 0);
  return rollupStatement(
    db,
    {
      ...attribution(work.principal),
      route: 'job',
      engine: work.engine,
      requests: 0,
      pages: final.filter((o) => o.kind === 'done').length,
      failedPages: final.filter((o) => o.kind === 'failed').length,
      errors: 0,
      bytes: final.reduce((n, o) => n + o.bytes, 0),
      browserMs: work.engine === 'browser' ? ms : 0,
      originMs: work.engine === 'origin' ? ms : 0,
      credits: 0,
    },
    dayOf(now),
  );
}
