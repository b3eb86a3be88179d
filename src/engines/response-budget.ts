/**
 * Edge `/crawl` answers `{"success":true,"results":[…]}` as a stream: each result is serialised
 * and written as soon as it is ready, then dropped, so a request holds the pages in flight (the
 * engine's concurrency), not all of them. The response has a byte budget
 * (`EDGE_CRAWL_RESPONSE_BUDGET_BYTES`): once the results written reach it, every later result —
 * and every URL not crawled yet, which is then not crawled at all — is answered by a short failed
 * result with `error_code: "response_budget_exceeded"` naming `/crawl/stream` and `/jobs`, which
 * have no such budget. The first result is awaited before the response starts, so an engine that
 * cannot start (no browser) still answers with its problem status.
 */
import type { CrawlResult } from '../crawl/types';
import { failedResult } from './result';

export const BUDGET_ERROR_CODE = 'response_budget_exceeded';

/** The stub standing in for a result past the budget. */
export function overBudget(url: string, budget: number): CrawlResult & { error_code: string } {
  return {
    ...failedResult(
      url,
      `this response reached its ${budget}-byte budget (EDGE_CRAWL_RESPONSE_BUDGET_BYTES); crawl many or large pages with POST /crawl/stream (one result a line) or POST /jobs`,
    ),
    error_code: BUDGET_ERROR_CODE,
  };
}

/** The streamed `/crawl` response over the engine's results, within `budget` bytes of results. */
export async function crawlWithinBudget(results: AsyncIterable<CrawlResult>, urls: string[], budget: number): Promise<Response> {
  const it = results[Symbol.asyncIterator]();
  const enc = new TextEncoder();
  // URLs with no result yet (a multiset: the same URL may be asked twice)
  const pending = new Map<string, number>();
  for (const u of urls) pending.set(u, (pending.get(u) ?? 0) + 1);
  const take = (u: string) => {
    const n = pending.get(u) ?? 0;
    if (n <= 1) pending.delete(u);
    else pending.set(u, n - 1);
  };
  let used = 0;
  let count = 0;
  let exhausted = false;
  let firstResult: IteratorResult<CrawlResult> | null = await it.next();

  const encodeResult = (r: CrawlResult): Uint8Array => {
    take(r.url);
    let bytes = enc.encode(JSON.stringify(r));
    if (exhausted || used + bytes.byteLength > budget) {
      exhausted = true;
      bytes = enc.encode(JSON.stringify(overBudget(r.url, budget)));
    }
    used += bytes.byteLength;
    const sep = count++ === 0 ? '' : ',';
    return sep ? concat(enc.encode(sep), bytes) : bytes;
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode('{"success":true,"results":['));
    },
    async pull(controller) {
      let next: IteratorResult<CrawlResult>;
      try {
        next = firstResult ?? (exhausted ? { done: true as const, value: undefined } : await it.next());
      } catch (error) {
        // the status line is sent: the URLs left are answered as failed rather than cutting the JSON
        console.error('edge crawl failed mid-response', error);
        for (const [u, n] of pending)
          for (let i = 0; i < n; i++)
            controller.enqueue(enc.encode(`${count++ === 0 ? '' : ','}${JSON.stringify(failedResult(u, 'the edge engine failed'))}`));
        pending.clear();
        next = { done: true, value: undefined };
      }
      firstResult = null;
      if (!next.done) {
        controller.enqueue(encodeResult(next.value));
        return;
      }
      if (exhausted) {
        // stop the engine: the URLs it has not answered are not crawled
        await it.return?.();
        for (const [u, n] of pending)
          for (let i = 0; i < n; i++) controller.enqueue(enc.encode(`${count++ === 0 ? '' : ','}${JSON.stringify(overBudget(u, budget))}`));
        pending.clear();
      }
      controller.enqueue(enc.encode(']}'));
      controller.close();
    },
    async cancel() {
      await it.return?.();
    },
  });
  return new Response(body, { headers: { 'Content-Type': 'application/json' } });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
