/**
 * One JavaScript stream for everything that watches a response body go by (docs/performance.md
 * "Third pass"). Three parts of the crawl path observe the body: the origin client's idle watchdog
 * (crawl/origin/client.ts), the meter (bytes, lines, how it ended: metering/meter-middleware.ts)
 * and the concurrency lease (released when the body ends: ratelimit/principal-limits.ts). Each used
 * to wrap the body in a stream of its own — three JavaScript streams, each chunk passing through
 * three pulls, and a new `Response` per wrapper. Now the first to wrap makes a `TappedBody`, the
 * others add a `BodyTap` to it: one pull per chunk, every tap sees each chunk, and every tap's `end`
 * runs exactly once, in the order the taps were added, whichever way the body ends.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { replaceResponse } from './replace-response';

/** An observer of a streaming body. */
export interface BodyTap {
  /** Each chunk, before it goes on to the client. */
  chunk?(chunk: Uint8Array): void;
  /**
   * Once, when the body ends: `aborted` false when the source finished, true when it errored or the
   * client cancelled. `bytes` is what went through.
   */
  end(bytes: number, aborted: boolean): void | Promise<void>;
}

/** A body wrapped once, with the taps that watch it. */
export class TappedBody {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #taps: BodyTap[] = [];
  #bytes = 0;
  /** How it ended (null while it streams). */
  #ended: { aborted: boolean } | null = null;

  constructor(source: ReadableStream<Uint8Array>, first?: BodyTap) {
    if (first) this.#taps.push(first);
    const reader = source.getReader();
    this.stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        let step: ReadableStreamReadResult<Uint8Array>;
        try {
          step = await reader.read();
        } catch (err) {
          await this.#end(true);
          controller.error(err);
          return;
        }
        if (step.done) {
          await this.#end(false);
          controller.close();
          return;
        }
        const value = step.value;
        this.#bytes += value.byteLength;
        for (const tap of this.#taps) tap.chunk?.(value);
        controller.enqueue(value);
      },
      cancel: async (reason) => {
        await this.#end(true);
        await reader.cancel(reason).catch(() => {});
      },
    });
  }

  /** Adds a tap; one added after the end is told at once how it ended. */
  add(tap: BodyTap): void {
    if (this.#ended) void tap.end(this.#bytes, this.#ended.aborted);
    else this.#taps.push(tap);
  }

  async #end(aborted: boolean): Promise<void> {
    if (this.#ended) return;
    this.#ended = { aborted };
    for (const tap of this.#taps) {
      try {
        await tap.end(this.#bytes, aborted);
      } catch (err) {
        console.error('a body tap failed at the end of the body', String(err));
      }
    }
  }
}

/** Responses whose body is a `TappedBody` this module made (so a later tap joins it). */
const tappedResponses = new WeakMap<Response, TappedBody>();

/** A response around a tapped body, known to `tapResponse` as such. */
export function tappedResponse(body: TappedBody, init: ResponseInit | Response): Response {
  const res = new Response(body.stream, init);
  tappedResponses.set(res, body);
  return res;
}

/**
 * Adds `tap` to the current response's body: joins the body's `TappedBody` when it has one, else
 * wraps the body once (and replaces the response). The response must have a body.
 */
export function tapResponse(c: Context<AppEnv>, tap: BodyTap): void {
  const res = c.res;
  const known = tappedResponses.get(res);
  if (known) {
    known.add(tap);
    return;
  }
  if (!res.body) throw new Error('tapResponse: the response has no body');
  replaceResponse(c, tappedResponse(new TappedBody(res.body, tap), res));
}
