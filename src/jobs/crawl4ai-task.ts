/**
 * `GET /crawl/job/{task_id}` for jobs the gateway runs itself, in the Crawl4AI server's task shape
 * (`status`: processing | completed | failed, `result` with `results` once finished), so Crawl4AI
 * clients polling a task work unchanged without an origin. Results up to CRAWL4AI_RESULT_LIMIT
 * pages are inlined; bigger jobs point to `/jobs/{id}/results` and the exports.
 */
import type { Env } from '../env';
import type { Principal } from '../auth/principal';
import { jobStatus } from './service';
import { readResults } from './results';

export const CRAWL4AI_RESULT_LIMIT = 500;

export async function crawl4aiTaskView(env: Env, principal: Principal, id: string): Promise<Record<string, unknown>> {
  const snap = await jobStatus(env, principal, id);
  const finished = snap.status === 'completed' || snap.status === 'failed' || snap.status === 'cancelled';
  const view: Record<string, unknown> = {
    task_id: id,
    status: !finished ? 'processing' : snap.status === 'completed' ? 'completed' : 'failed',
    created_at: snap.created_at,
    updated_at: snap.finished_at ?? snap.started_at ?? snap.created_at,
    progress: snap.progress,
    counts: snap.counts,
  };
  if (finished && snap.status !== 'completed') view.error = `job ${snap.status}`;
  if (finished) {
    if (snap.counts.total <= CRAWL4AI_RESULT_LIMIT) {
      const { records } = await readResults(env, id, -1, CRAWL4AI_RESULT_LIMIT);
      view.result = { success: snap.status === 'completed', results: records };
    } else {
      view.result = { success: snap.status === 'completed', results_url: `/jobs/${id}/results`, export_url: `/jobs/${id}/export` };
    }
  }
  return view;
}
