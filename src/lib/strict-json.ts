/**
 * One strict reading of client JSON, so the gateway and the parsers behind it (Crawl4AI's Python
 * `json`, the jobs module, the audit) cannot read a body two ways (issue #16, #26).
 *
 * It accepts exactly RFC 8259 JSON text (what `JSON.parse` accepts), and refuses on top of that:
 *  - a key that appears twice in one object (JSON.parse keeps the last, other parsers the first);
 *  - nesting deeper than `maxDepth` (default 64) — the walk is bounded before it can overflow a stack;
 *  - a number that another parser reads differently: non-finite after parsing (`1e400`), or an integer
 *    literal outside ±(2^53 − 1) (Python keeps it exact, JavaScript rounds it);
 *  - more than `maxNodes` values (default 100,000), so the work one body causes is bounded.
 * Objects are built with `defineProperty`, so a `"__proto__"` key is plain data, as with JSON.parse.
 * Linear in the input: one pass, no backtracking.
 */

import { decodeJsonString, isDigit, jsonNumberEnd, jsonStringEnd, skipJsonSpace } from './json-lexer';

export type StrictJsonReason = 'syntax' | 'duplicate_key' | 'too_deep' | 'number_out_of_range' | 'too_large';

export type StrictJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: StrictJsonReason; message: string; path?: string; offset: number };

export interface StrictJsonOptions {
  /** Deepest nesting of arrays/objects allowed (the top-level value is depth 1). Default 64. */
  maxDepth?: number;
  /** Most values (scalars, arrays, objects) in one text. Default 100,000. */
  maxNodes?: number;
}

export const DEFAULT_MAX_DEPTH = 64;
export const DEFAULT_MAX_NODES = 100_000;

class StrictJsonError extends Error {
  constructor(
    readonly reason: StrictJsonReason,
    message: string,
    readonly offset: number,
    readonly path?: string,
  ) {
    super(message);
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** JSONPath-style segment for error messages: `.name`, `["odd key"]` or `[3]`. */
export function pathSegment(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Parse `text` strictly; never throws. */
export function parseStrictJson(text: string, options: StrictJsonOptions = {}): StrictJsonResult {
  const parser = new Parser(text, options.maxDepth ?? DEFAULT_MAX_DEPTH, options.maxNodes ?? DEFAULT_MAX_NODES);
  try {
    const value = parser.parseDocument();
    return { ok: true, value };
  } catch (err) {
    if (err instanceof StrictJsonError) {
      return { ok: false, reason: err.reason, message: err.message, offset: err.offset, ...(err.path ? { path: err.path } : {}) };
    }
    throw err;
  }
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

class Parser {
  #pos = 0;
  #nodes = 0;
  /** Path segments of the value being read, for error messages. */
  #path: string[] = ['$'];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly maxNodes: number,
  ) {}

  parseDocument(): unknown {
    this.#skipWhitespace();
    const value = this.#value(1);
    this.#skipWhitespace();
    if (this.#pos !== this.text.length) this.#fail('syntax', 'unexpected text after the JSON value');
    return value;
  }

  #fail(reason: StrictJsonReason, message: string, offset = this.#pos): never {
    throw new StrictJsonError(reason, message, offset, this.#path.join(''));
  }

  #skipWhitespace(): void {
    this.#pos = skipJsonSpace(this.text, this.#pos);
  }

  #value(depth: number): unknown {
    if (++this.#nodes > this.maxNodes) this.#fail('too_large', `more than ${this.maxNodes} values`);
    const c = this.text.charCodeAt(this.#pos);
    switch (c) {
      case 0x7b: // {
        return this.#object(depth);
      case 0x5b: // [
        return this.#array(depth);
      case 0x22: // "
        return this.#string();
      case 0x74: // t
        return this.#literal('true', true);
      case 0x66: // f
        return this.#literal('false', false);
      case 0x6e: // n
        return this.#literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.#number();
        return this.#fail('syntax', Number.isNaN(c) ? 'unexpected end of text' : 'unexpected character');
    }
  }

  #literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.#pos)) {
      this.#pos += word.length;
      return value;
    }
    return this.#fail('syntax', 'unexpected character');
  }

  #enter(depth: number): void {
    if (depth > this.maxDepth) this.#fail('too_deep', `nesting deeper than ${this.maxDepth} levels`);
  }

  #object(depth: number): Record<string, unknown> {
    this.#enter(depth);
    this.#pos++; // {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.#skipWhitespace();
    if (this.text.charCodeAt(this.#pos) === 0x7d) {
      this.#pos++;
      return out;
    }
    for (;;) {
      this.#skipWhitespace();
      if (this.text.charCodeAt(this.#pos) !== 0x22) this.#fail('syntax', 'expected a string key');
      const keyOffset = this.#pos;
      const key = this.#string();
      this.#path.push(pathSegment(key));
      if (seen.has(key)) this.#fail('duplicate_key', `duplicate key ${JSON.stringify(key)}`, keyOffset);
      seen.add(key);
      this.#skipWhitespace();
      if (this.text.charCodeAt(this.#pos) !== 0x3a) this.#fail('syntax', 'expected ":"');
      this.#pos++;
      this.#skipWhitespace();
      const value = this.#value(depth + 1);
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      this.#path.pop();
      this.#skipWhitespace();
      const c = this.text.charCodeAt(this.#pos);
      if (c === 0x2c) {
        this.#pos++;
        continue;
      }
      if (c === 0x7d) {
        this.#pos++;
        return out;
      }
      this.#fail('syntax', 'expected "," or "}"');
    }
  }

  #array(depth: number): unknown[] {
    this.#enter(depth);
    this.#pos++; // [
    const out: unknown[] = [];
    this.#skipWhitespace();
    if (this.text.charCodeAt(this.#pos) === 0x5d) {
      this.#pos++;
      return out;
    }
    for (;;) {
      this.#skipWhitespace();
      this.#path.push(pathSegment(out.length));
      out.push(this.#value(depth + 1));
      this.#path.pop();
      this.#skipWhitespace();
      const c = this.text.charCodeAt(this.#pos);
      if (c === 0x2c) {
        this.#pos++;
        continue;
      }
      if (c === 0x5d) {
        this.#pos++;
        return out;
      }
      this.#fail('syntax', 'expected "," or "]"');
    }
  }

  #string(): string {
    const t = this.text;
    const start = this.#pos;
    const end = jsonStringEnd(t, start);
    if (typeof end !== 'number') {
      const c = t.charCodeAt(end.at);
      if (end.at >= t.length) this.#fail('syntax', 'unterminated string', end.at);
      if (c < 0x20) this.#fail('syntax', 'control character in a string', end.at);
      this.#fail('syntax', t.charCodeAt(end.at + 1) === 0x75 ? 'bad \\u escape' : 'bad escape', end.at);
    }
    this.#pos = end;
    return decodeJsonString(t, start, end);
  }

  #number(): number {
    const t = this.text;
    const start = this.#pos;
    const intStart = t.charCodeAt(start) === 0x2d ? start + 1 : start;
    const end = jsonNumberEnd(t, start);
    if (typeof end !== 'number') {
      const before = t.charCodeAt(end.at - 1);
      const where =
        before === 0x2e ? 'bad fraction' : end.at > intStart && /[eE+-]/.test(t[end.at - 1] ?? '') ? 'bad exponent' : 'bad number';
      this.#fail('syntax', where, end.at);
    }
    if (t.charCodeAt(intStart) === 0x30 && isDigit(t.charCodeAt(intStart + 1))) this.#fail('syntax', 'leading zero', intStart + 1);
    const literal = t.slice(start, end);
    const value = Number(literal);
    if (!Number.isFinite(value)) this.#fail('number_out_of_range', 'number too large', start);
    const integer = !/[.eE]/.test(literal);
    if (integer && Math.abs(value) > MAX_SAFE) this.#fail('number_out_of_range', 'integer outside ±(2^53 − 1)', start);
    this.#pos = end;
    return value;
  }
}
