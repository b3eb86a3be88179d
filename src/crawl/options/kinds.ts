/**
 * The vocabulary of the crawl-option allow-list (table.ts): what a field's value may be, what a
 * field may do on the origin (its class), and the CSS-selector grammar that decides when a
 * selector is only a selector. Pure; no I/O.
 */
import type { Permission } from '../../auth/rbac';

/**
 * What a field can do on the origin (SECURITY.md "Parser differentials"):
 * - `safe`: forwarded for `crawl:run`;
 * - `code`: runs caller-supplied code on the crawler (needs `crawl:js`);
 * - `capability`: needs a named permission (LLM use, proxies, headers/cookies, deep crawls, ...);
 * - `never`: reaches into the crawler host or its secrets; refused for everyone (422).
 */
export type FieldClass = 'safe' | 'code' | 'capability' | 'never';

/** Knobs the operator sets (config) that some checks depend on. */
export interface OptionLimits {
  /** A deep crawl within these bounds on the start domain is `safe`; beyond them it needs `crawl:deep`. */
  deepCrawlMaxPages: number;
  deepCrawlMaxDepth: number;
  /** LLM endpoints the operator configured; only these may receive the origin's own provider keys. */
  llmBaseUrls: readonly string[];
}

export const DEFAULT_OPTION_LIMITS: OptionLimits = { deepCrawlMaxPages: 20, deepCrawlMaxDepth: 2, llmBaseUrls: [] };

/** The shape of a value. Object kinds name a type in the table, so the grammar can recurse. */
export type ValueSpec =
  | { kind: 'bool' }
  | { kind: 'number'; min: number; max: number; int?: boolean }
  | { kind: 'string'; max: number; min?: number; pattern?: RegExp; values?: readonly string[] }
  /** A target the origin contacts: egress-checked and forwarded in its canonical form. */
  | { kind: 'url'; proxy?: boolean; raw?: boolean }
  /** A browser session id: forwarded namespaced with the caller's tenant. */
  | { kind: 'session' }
  | { kind: 'list'; of: ValueSpec; max: number }
  | { kind: 'either'; options: readonly ValueSpec[] }
  /** Free keys (matching `key`) to values of one shape; a Python dict on the origin. */
  | { kind: 'map'; key: RegExp; value: ValueSpec; max: number }
  /** A plain object described by a table type (a Python dict with known keys). */
  | { kind: 'object'; type: string }
  /** A plain object whose table type is chosen by a sibling field's value (hook actions). */
  | { kind: 'objectBySibling'; sibling: string; types: Readonly<Record<string, string>> }
  /** A Crawl4AI `{"type": "<Class>", "params": {...}}` object of one of `types`; `plain` also takes bare params. */
  | { kind: 'typed'; types: readonly string[]; plain?: string }
  /** A Crawl4AI enum: the value as a string, or `{"type": "<Enum>", "params": "<value>"}`. */
  | { kind: 'enum'; enumType: string; values: readonly string[] };

/** A value-dependent rule: when `applies(value)` holds, the field is of class `cls` (else of the field's class). */
export interface Escalation {
  cls: 'code' | 'capability' | 'never';
  permission?: Permission;
  applies: (value: unknown, limits: OptionLimits) => boolean;
  /** Human words for the docs: "unless it is a CSS selector". */
  when: string;
}

export interface FieldSpec {
  cls: FieldClass;
  /** For `capability` fields: the permission they need. */
  permission?: Permission;
  /** Absent for `never` fields (their presence alone is refused). */
  value?: ValueSpec;
  /** One line for the docs: what the field does on the origin, and why it has its class. */
  note: string;
  escalate?: Escalation;
  /** `wait_for`: a plain selector is forwarded as `css:<selector>` so the origin never reads it as JavaScript. */
  rewrite?: (value: unknown) => unknown;
}

/** One object type: a Crawl4AI class (`{type, params}`) or a plain dict with known keys. */
export interface TypeSpec {
  /** Where it comes from in Crawl4AI (module path), for the docs. */
  source: string;
  fields: Readonly<Record<string, FieldSpec>>;
  /** Using this type at all needs a permission (e.g. LLMConfig → crawl:llm). */
  permission?: Permission;
  /** Cross-field rules (e.g. a caller-chosen LLM base_url with the origin's own key). */
  rules?: readonly ObjectRule[];
  /** Python `**kwargs` classes accept more than they name; we still refuse every unlisted key. */
}

/** A rule over one object's fields, returning problems relative to the object. */
export type ObjectRule = (obj: Readonly<Record<string, unknown>>, limits: OptionLimits) => RuleFinding[];

export interface RuleFinding {
  field: string;
  cls: 'capability' | 'never';
  permission?: Permission;
  message: string;
}

// ---------- small constructors, so the table reads as a table ----------

export const bool: ValueSpec = { kind: 'bool' };
export const int = (min: number, max: number): ValueSpec => ({ kind: 'number', min, max, int: true });
export const num = (min: number, max: number): ValueSpec => ({ kind: 'number', min, max });
export const str = (max = 1000, pattern?: RegExp): ValueSpec => ({ kind: 'string', max, ...(pattern ? { pattern } : {}) });
export const oneOf = (...values: string[]): ValueSpec => ({ kind: 'string', max: 100, values });
export const listOf = (of: ValueSpec, max = 100): ValueSpec => ({ kind: 'list', of, max });
export const either = (...options: ValueSpec[]): ValueSpec => ({ kind: 'either', options });
export const mapOf = (value: ValueSpec, max = 100, key = /^[\w.:/@ -]{1,200}$/): ValueSpec => ({ kind: 'map', key, value, max });
export const obj = (type: string): ValueSpec => ({ kind: 'object', type });
export const typed = (types: string[], plain?: string): ValueSpec => ({ kind: 'typed', types, ...(plain ? { plain } : {}) });

export const safe = (value: ValueSpec, note: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ cls: 'safe', value, note, ...extra });
export const code = (value: ValueSpec, note: string): FieldSpec => ({ cls: 'code', value, note });
export const capability = (permission: Permission, value: ValueSpec, note: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  cls: 'capability',
  permission,
  value,
  note,
  ...extra,
});
export const never = (note: string): FieldSpec => ({ cls: 'never', note });

/** Text with no control characters (header values, user agents, labels). */
export const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;
/** A scalar default value in an extraction schema. */
export const scalar: ValueSpec = either(str(1000), num(-1e15, 1e15), bool);

// ---------- the CSS selector grammar ----------

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_-]/;
const PSEUDO_ARG = /[A-Za-z0-9_.#+\- ]/;

/**
 * True when `s` is a plain CSS selector in a conservative grammar: type/`*`, `#id`, `.class`,
 * `[attr]`, `[attr op ident|'single-quoted']`, `:pseudo` / `::pseudo` with a simple argument, the
 * combinators ` `, `>`, `+`, `~` and `,` lists. It has no `"`, backslash, backtick, line break or
 * nested parenthesis, so it can neither be read as JavaScript by Crawl4AI's `smart_wait` fallback
 * nor break out of the double-quoted JS string Crawl4AI builds from `css_selector`. A linear scan
 * (no backtracking regex over client text).
 */
export function isPlainCssSelector(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 1000) return false;
  let i = 0;
  const at = (re: RegExp): boolean => i < n && re.test(s[i] as string);
  const spaces = (): number => {
    const from = i;
    while (i < n && s[i] === ' ') i++;
    return i - from;
  };
  const ident = (): boolean => {
    if (s[i] === '-') i++;
    if (!at(IDENT_START)) return false;
    while (at(IDENT_CHAR)) i++;
    return true;
  };
  const attrValue = (): boolean => {
    if (s[i] === "'") {
      i++;
      while (i < n && s[i] !== "'") {
        if (/["\\\r\n\u2028\u2029`]/.test(s[i] as string)) return false;
        i++;
      }
      if (s[i] !== "'") return false;
      i++;
      return true;
    }
    if (at(/[0-9]/)) {
      while (at(/[0-9.]/)) i++;
      return true;
    }
    return ident();
  };
  const sub = (): boolean => {
    const c = s[i];
    if (c === '#' || c === '.') {
      i++;
      return ident();
    }
    if (c === '[') {
      i++;
      spaces();
      if (!ident()) return false;
      spaces();
      if (s[i] === ']') {
        i++;
        return true;
      }
      if (at(/[~|^$*]/)) i++;
      if (s[i] !== '=') return false;
      i++;
      spaces();
      if (!attrValue()) return false;
      spaces();
      if (s[i] !== ']') return false;
      i++;
      return true;
    }
    if (c === ':') {
      i++;
      if (s[i] === ':') i++;
      if (!ident()) return false;
      if (s[i] === '(') {
        i++;
        let len = 0;
        while (at(PSEUDO_ARG) && len++ < 64) i++;
        if (s[i] !== ')') return false;
        i++;
      }
      return true;
    }
    return false;
  };
  const compound = (): boolean => {
    let parts = 0;
    if (s[i] === '*') {
      i++;
      parts++;
    } else if (at(IDENT_START) || (s[i] === '-' && i + 1 < n && IDENT_START.test(s[i + 1] as string))) {
      if (!ident()) return false;
      parts++;
    }
    while (i < n && /[#.[:]/.test(s[i] as string)) {
      if (!sub()) return false;
      parts++;
    }
    return parts > 0;
  };
  const complex = (): boolean => {
    if (!compound()) return false;
    for (;;) {
      const ws = spaces();
      if (i >= n || s[i] === ',') return true;
      if (at(/[>+~]/)) {
        i++;
        spaces();
      } else if (ws === 0) return false;
      if (!compound()) return false;
    }
  };
  spaces();
  for (;;) {
    if (!complex()) return false;
    spaces();
    if (i >= n) return true;
    if (s[i] !== ',') return false;
    i++;
    spaces();
  }
}

/**
 * Crawl4AI's `smart_wait` (async_crawler_strategy.py) runs `wait_for` as JavaScript when it starts
 * with `js:`, `()` or `function`, and falls back to JavaScript when the browser rejects it as a
 * selector. Only an exact `css:` prefix (no leading characters that one side trims and the other
 * does not) or a plain selector in our grammar is a selector everywhere.
 */
export function waitForIsSelector(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value.startsWith('css:')) return !/[\r\n\u2028\u2029]/.test(value);
  return isPlainCssSelector(value) && !value.trimStart().startsWith('function');
}

/** The form of a selector `wait_for` the origin receives: always with the explicit `css:` prefix. */
export function canonicalWaitFor(value: unknown): unknown {
  if (typeof value === 'string' && !value.startsWith('css:') && waitForIsSelector(value)) return `css:${value.trim()}`;
  return value;
}
