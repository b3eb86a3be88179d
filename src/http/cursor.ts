/**
 * Opaque keyset cursors (pure): base64url of `[created_at, id]`, for lists ordered by
 * (created_at, id). Opaque to clients, so the ordering can change without breaking them; a cursor
 * whose id does not match the list's id pattern is refused (null), never a full-table scan.
 */
import { textFromBase64Url, textToBase64Url } from '../lib/encoding';
export interface KeysetCursor {
  createdAt: number;
  id: string;
}

export function encodeKeysetCursor(c: KeysetCursor): string {
  return textToBase64Url(JSON.stringify([c.createdAt, c.id]));
}

/** null when the cursor was not made by `encodeKeysetCursor` for ids matching `idPattern`. */
export function decodeKeysetCursor(cursor: string, idPattern: RegExp): KeysetCursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    const text = textFromBase64Url(cursor);
    if (text === null) return null;
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [createdAt, id] = value as [unknown, unknown];
    if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) return null;
    if (typeof id !== 'string' || !idPattern.test(id)) return null;
    return { createdAt, id };
  } catch {
    return null;
  }
}
