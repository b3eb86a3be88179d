/**
 * Field selection: `fields=url,status_code,markdown.raw_markdown` picks (nested) values by dotted
 * path. Pure.
 */

/** Longest accepted list and path, so a query string cannot make every record walk a huge list. */
export const MAX_FIELDS = 64;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;

/** Columns of a CSV export when no `fields` are given (the Crawl4AI fields people read in a sheet). */
export const DEFAULT_TABLE_FIELDS = [
  'url',
  'success',
  'status_code',
  'redirected_url',
  'error_message',
  'metadata.title',
  'metadata.description',
  'markdown.raw_markdown',
] as const;

/** Sections of a Markdown / HTML document when no `fields` are given. */
export const DEFAULT_DOCUMENT_FIELDS = ['url', 'status_code', 'markdown.raw_markdown'] as const;

export type FieldsResult = { ok: true; fields: string[] | null } | { ok: false; reason: string };

/** Parses `a,b.c` (or an array) into a de-duplicated list; null when nothing was asked for. */
export function parseFields(raw: string | readonly string[] | undefined | null): FieldsResult {
  if (raw === undefined || raw === null) return { ok: true, fields: null };
  const list = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) return { ok: true, fields: null };
  if (list.length > MAX_FIELDS) return { ok: false, reason: `at most ${MAX_FIELDS} fields` };
  for (const f of list) {
    if (!FIELD_PATH.test(f)) return { ok: false, reason: `"${f.slice(0, 80)}" is not a field path like markdown.raw_markdown` };
  }
  return { ok: true, fields: [...new Set(list)] };
}

/** The value at a dotted path (undefined when any step is missing). Own properties only. */
export function valueAt(record: unknown, path: string): unknown {
  let cur: unknown = record;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Like `valueAt`, but `markdown.raw_markdown` also reads a plain-string `markdown` (Crawl4AI < 0.6). */
export function fieldValue(record: unknown, path: string): unknown {
  const v = valueAt(record, path);
  if (v === undefined && path === 'markdown.raw_markdown') {
    const md = valueAt(record, 'markdown');
    if (typeof md === 'string') return md;
  }
  return v;
}

/**
 * A new object holding only the selected paths, nested as in the record
 * (`markdown.raw_markdown` → `{markdown:{raw_markdown}}`). Missing paths are left out.
 */
export function project(record: Record<string, unknown>, fields: readonly string[] | null): Record<string, unknown> {
  if (!fields) return record;
  const out: Record<string, unknown> = {};
  for (const path of fields) {
    const v = valueAt(record, path);
    if (v === undefined) continue;
    const keys = path.split('.');
    let target = out;
    for (const key of keys.slice(0, -1)) {
      const next = target[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[keys[keys.length - 1]!] = v;
  }
  return out;
}
