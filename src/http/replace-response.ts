/**
 * Replacing `c.res` without Hono's copy. Hono's `c.res` setter, when a response is already set,
 * builds another `Response` around the new one and copies every header of the old one onto it —
 * work thrown away when the new response was itself made from the old one (`new Response(body,
 * old)`, a wrapped body) or is the same object with headers set in place. Three middlewares on
 * every crawl response did that (docs/performance.md "Third pass"): clearing first skips it.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';

/** Sets `res` as the response; the caller has already carried over what it keeps of the old one. */
export function replaceResponse(c: Context<AppEnv>, res: Response): void {
  c.res = undefined;
  c.res = res;
}
