/**
 * Opaque keyset cursors (pure): base64url of `[created_at, id]`, for lists ordered by
 * (created_at, id). Opaque to clients, so the ordering can change without breaking them; a cursor
 * whose id does not match the list's id pattern is refused (null), never a full-table scan.
 */
export interface KeysetCursor {
  createdAt: number;
  id: string;
}

function toBase64Url(text: string): string {
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function encodeKeysetCursor(c: KeysetCursor): string {
  return toBase64Url(JSON.stringify([c.createdAt, c.id]));
}

/** null when the cursor was not made by `encodeKeysetCursor` for ids matching `idPattern`. */
export function decodeKeysetCursor(cursor: string, idPattern: RegExp): KeysetCursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    const padded = cursor.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (cursor.length % 4)) % 4);
    const value: unknown = JSON.parse(atob(padded));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [createdAt, id] = value as [unknown, unknown];
    if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) return null;
    if (typeof id !== 'string' || !idPattern.test(id)) return null;
    return { createdAt, id };
  } catch {
    return null;
  }
}
