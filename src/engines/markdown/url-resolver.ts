/**
 * Resolving the links and image sources of a page against its base URL, as `new URL(href, base)`
 * does (WHATWG URL), with a short path for the common relative forms — `/path`, `path`, `../path`,
 * `?query`, `#fragment` made of plain characters — that builds the same string without a URL
 * parse: on a page of distinct links, one `new URL` per link was the costliest step of a link.
 * Anything unusual (a scheme, `//host`, `\`, spaces, tabs, quotes, non-ASCII, …) goes to `new URL`.
 * test/unit/url-resolver.test.ts checks the short path against `new URL` over generated hrefs. Pure.
 */

/** Resolves `href` against the base; returns null for unusable or script URLs. */
export function resolveUrl(href: string | undefined, base: URL | null): string | null {
  if (href === undefined) return null;
  const trimmed = href.trim();
  if (!trimmed || SCRIPT_OR_DATA.test(trimmed)) return scriptOrData(trimmed);
  try {
    return new URL(trimmed, base ?? undefined).href;
  } catch {
    return null;
  }
}

const SCRIPT_OR_DATA = /^(javascript|vbscript|data):/i;

/** An empty, script or `data:` reference: only `data:image/` is kept (the callers drop it). */
function scriptOrData(trimmed: string): string | null {
  return trimmed.toLowerCase().startsWith('data:image/') ? trimmed : null;
}

/**
 * Characters the short path takes as they are: ASCII letters and digits and `-._~!$&()*+,;=:@/%?#`.
 * None of them is percent-encoded by the URL parser in a path, a query or a fragment, and none but
 * `/ ? # . %` (handled below) has a meaning there. Everything else (`\` is a `/` in http URLs,
 * `'` is encoded in their queries, `^ | [ ]` and the like vary between parsers) takes `new URL`.
 */
const PLAIN = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&()*+,;=:@/%?#') PLAIN[c.charCodeAt(0)] = 1;

/** `.`, `%2e` (any case): a segment that means "this directory". */
function isSingleDot(segment: string): boolean {
  return segment === '.' || (segment.length === 3 && segment.toLowerCase() === '%2e');
}

/** `..`, `.%2e`, `%2e.`, `%2e%2e` (any case): a segment that means "the parent directory". */
function isDoubleDot(segment: string): boolean {
  if (segment === '..') return true;
  if (segment.length !== 4 && segment.length !== 6) return false;
  const lower = segment.toLowerCase();
  return lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e';
}

/**
 * The WHATWG path state for an http(s) URL: `path` (segments separated by `/`, without `?`/`#`)
 * appended to the segments `into`, dot segments applied; returns the serialised path.
 */
function applyPath(into: string[], path: string, from: number): string {
  let start = from;
  for (;;) {
    let end = path.indexOf('/', start);
    const last = end === -1;
    if (last) end = path.length;
    const segment = path.slice(start, end);
    if (isDoubleDot(segment)) {
      into.pop();
      if (last) into.push('');
    } else if (isSingleDot(segment)) {
      if (last) into.push('');
    } else {
      into.push(segment);
    }
    if (last) break;
    start = end + 1;
  }
  let out = '';
  for (let i = 0; i < into.length; i++) out += `/${into[i]}`;
  return out;
}

/**
 * `resolveUrl` against one base, remembering the answer per written URL: a page repeats the same
 * `href` many times (menus, a link farm).
 */
export class UrlResolver {
  readonly #cache = new Map<string, string | null>();
  /** For an http(s) base: everything before its path (`https://user@host:port`), its path, its query. */
  readonly #origin: string | null = null;
  readonly #path: string = '';
  readonly #search: string = '';
  /** The base path's segments without the last one (what a relative path starts from). */
  readonly #directory: readonly string[] = [];

  constructor(readonly base: URL | null) {
    if (base !== null && (base.protocol === 'http:' || base.protocol === 'https:')) {
      const href = base.href;
      // an http(s) authority holds no `/`: the first one after `//` starts the path
      const origin = href.slice(0, href.indexOf('/', base.protocol.length + 2));
      const path = base.pathname;
      const search = base.search;
      // an empty query or fragment (`?` or `#` alone) is not in `search`/`hash`: such bases take `new URL`
      if (path.charCodeAt(0) === 47 && origin + path + search + base.hash === href) {
        this.#origin = origin;
        this.#path = path;
        this.#search = search;
        this.#directory = path.slice(1).split('/').slice(0, -1);
      }
    }
  }

  resolve(href: string | undefined): string | null {
    if (href === undefined) return null;
    let resolved = this.#cache.get(href);
    if (resolved === undefined) {
      resolved = this.#resolve(href);
      if (this.#cache.size < 4096) this.#cache.set(href, resolved);
    }
    return resolved;
  }

  #resolve(href: string): string | null {
    if (this.#origin === null) return resolveUrl(href, this.base);
    const trimmed = href.trim();
    if (!trimmed || SCRIPT_OR_DATA.test(trimmed)) return scriptOrData(trimmed);
    return this.relative(trimmed) ?? resolveUrl(trimmed, this.base);
  }

  /**
   * The short path: `trimmed` resolved against an http(s) base when it is a plain relative
   * reference (see `PLAIN`), else null. Public for the property test.
   */
  relative(trimmed: string): string | null {
    const origin = this.#origin;
    if (origin === null) return null;
    const length = trimmed.length;
    // where the path ends (the first `?` or `#`), and whether a `:` comes before it: then the
    // reference may start with a scheme (`mailto:`, `http:x`), which the URL parser reads
    let pathEnd = length;
    let colon = false;
    for (let i = 0; i < length; i++) {
      const c = trimmed.charCodeAt(i);
      if (c >= 128 || PLAIN[c] === 0) return null;
      if (pathEnd === length) {
        if (c === 63 /* ? */ || c === 35 /* # */) pathEnd = i;
        else if (c === 58 /* : */) colon = true;
      }
    }
    if (colon) return null;
    const rest = trimmed.slice(pathEnd);
    if (pathEnd === 0) {
      // `?query` keeps the base path; `#fragment` keeps the base path and query
      return trimmed.charCodeAt(0) === 63 ? origin + this.#path + rest : origin + this.#path + this.#search + rest;
    }
    const path = pathEnd === length ? trimmed : trimmed.slice(0, pathEnd);
    if (path.charCodeAt(0) === 47 /* / */) {
      // `//host/…` names another host
      if (path.charCodeAt(1) === 47) return null;
      return origin + applyPath([], path, 1) + rest;
    }
    return origin + applyPath(this.#directory.slice(), path, 0) + rest;
  }
}
