/**
 * Value kinds shared by the config allow-lists (types-config.ts, types-config-objects.ts): header
 * maps, selectors, domain lists, durations, User-Agent strings, and the CSS-or-code escalation.
 */
import { PRINTABLE, int, isPlainCssSelector, listOf, mapOf, num, str } from './kinds';

/** A header name a caller may set (never a hop-by-hop or framing header). */
const HEADER_NAME =
  /^(?!(?:host|content-length|transfer-encoding|connection|upgrade|te|trailer|keep-alive|proxy-[a-z-]*)$)[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/i;
export const headerMap = mapOf(str(4096, PRINTABLE), 50, HEADER_NAME);
export const selector = str(2000, PRINTABLE);
export const domainList = listOf(str(253, /^[A-Za-z0-9.*-]{1,253}$/), 500);
export const ms = (max: number) => int(0, max);
export const seconds = (max: number) => num(0, max);
export const ua = str(512, PRINTABLE);
/** A `wait_for`-style value: code unless it is a plain CSS selector. */
export const cssOrCode = {
  cls: 'code' as const,
  applies: (v: unknown) => typeof v === 'string' && !isPlainCssSelector(v),
  when: 'unless it is a plain CSS selector (no quotes, backslashes or nested parentheses)',
};
