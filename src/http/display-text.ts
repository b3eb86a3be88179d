/**
 * Names people type and others read (key names, display names): one rule for what they may hold.
 * Refused: C0 and C1 controls and DEL (`\p{Cc}`, which includes U+0085 NEXT LINE), the line and
 * paragraph separators U+2028/U+2029, format characters (`\p{Cf}`: bidi overrides and isolates,
 * zero-width joiners, BOM, ...) and lone surrogates. They break line-based readers of exports and
 * logs, or make a name display as something else (Trojan Source, CVE-2021-42574).
 */
import { z } from '@hono/zod-openapi';

const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;

/** Pure: true when `text` holds no character this module refuses. */
export function isDisplaySafe(text: string): boolean {
  return !UNSAFE.test(text);
}

/** A trimmed, non-empty display name of at most `max` characters, without controls or format characters. */
export function displayText(max: number) {
  return z.string().trim().min(1).max(max).refine(isDisplaySafe, 'must not contain control, line-separator or format (bidi) characters');
}
