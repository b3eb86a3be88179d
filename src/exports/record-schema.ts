/**
 * The shape a record must have to be exported: Crawl4AI's `CrawlResult` (src/crawl/types.ts),
 * checked with zod before a single byte of it is written. Unknown extra fields are kept (Crawl4AI
 * adds fields between versions); known fields must have their documented types. A record that fails
 * is left out whole and reported in the manifest with its index and the reason.
 */
import { z } from 'zod';

const text = z.string();
const nullableText = text.nullable().optional();

const linkItem = z.looseObject({ href: text, text: text.optional(), title: text.nullable().optional() });
const mediaItem = z.looseObject({ src: text, alt: text.nullable().optional(), type: text.nullable().optional() });

/** Crawl4AI ≥ 0.6 has a markdown object; older versions (and some origins) send a plain string. */
const markdown = z.union([
  text,
  z.looseObject({
    raw_markdown: text,
    markdown_with_citations: text.optional(),
    references_markdown: text.optional(),
    fit_markdown: text.nullable().optional(),
    fit_html: text.nullable().optional(),
  }),
]);

export const exportRecordSchema = z.looseObject({
  url: text.min(1).max(65_536),
  success: z.boolean(),
  status_code: z.number().int().min(0).max(999).nullable().optional(),
  html: nullableText,
  cleaned_html: nullableText,
  markdown: markdown.nullable().optional(),
  links: z
    .looseObject({ internal: z.array(linkItem).optional(), external: z.array(linkItem).optional() })
    .nullable()
    .optional(),
  media: z.record(z.string(), z.array(mediaItem)).nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  error_message: nullableText,
  redirected_url: nullableText,
  response_headers: z.record(z.string(), z.unknown()).nullable().optional(),
  screenshot: nullableText,
  pdf: nullableText,
});

export type ExportRecord = z.output<typeof exportRecordSchema>;

export type RecordCheck = { ok: true; record: ExportRecord } | { ok: false; reason: string };

/** Deepest nesting accepted (Crawl4AI results are a few levels deep). */
export const MAX_DEPTH = 32;

/**
 * The path of the first value JSON cannot carry (bigint, function, symbol, NaN/Infinity, a cycle,
 * nesting deeper than MAX_DEPTH), or null. Checked up front so a record is valid or invalid
 * whatever the format (a CSV that skips the bad field must not accept what JSON refuses).
 */
export function firstNonJson(value: unknown, path: string[] = [], seen = new Set<object>()): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path.join('.')}: non-finite number`;
  if (typeof value !== 'object') return `${path.join('.') || '(record)'}: a ${typeof value} is not JSON`;
  if (path.length > MAX_DEPTH) return `${path.join('.')}: nested deeper than ${MAX_DEPTH}`;
  if (seen.has(value)) return `${path.join('.')}: cycle`;
  seen.add(value);
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v ?? null]) : Object.entries(value);
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    const bad = firstNonJson(v, [...path, k], seen);
    if (bad) return bad;
  }
  seen.delete(value);
  return null;
}

/** Validates one record; the reason names the first few failing paths (no record content). */
export function checkRecord(value: unknown): RecordCheck {
  const parsed = exportRecordSchema.safeParse(value);
  if (parsed.success) {
    const bad = firstNonJson(value);
    // The original object is written (not zod's copy): key order kept, no second copy in memory.
    return bad ? { ok: false, reason: bad.slice(0, 300) } : { ok: true, record: value as ExportRecord };
  }
  const reason = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(record)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason: reason.slice(0, 300) };
}
