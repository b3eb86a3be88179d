/** Cursors for `GET /admin/keys`: the shared keyset cursor (src/http/cursor.ts) over key ids. */
import { decodeKeysetCursor, encodeKeysetCursor, type KeysetCursor } from '../http/cursor';

export type KeyCursor = KeysetCursor;
const KEY_ID = /^key_[A-Za-z0-9]{1,64}$/;

export const encodeCursor = encodeKeysetCursor;

/** null when the cursor was not made by `encodeCursor`. */
export function decodeCursor(cursor: string): KeyCursor | null {
  return decodeKeysetCursor(cursor, KEY_ID);
}
