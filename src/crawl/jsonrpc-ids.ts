/**
 * The ids of the JSON-RPC responses in one origin → client MCP message, read without parsing the
 * message. An answer can be as large as the page it carries (tens of MB for a crawl's markdown), and
 * `JSON.parse` would build all of it again in the isolate's heap (128 MB, shared by every request
 * in the isolate) only to read one `id`. This scan validates the text as JSON in one pass (the
 * tokens by the rules strict-json.ts reads client bodies with, lib/json-lexer.ts) and keeps
 * nothing but the raw `id` value of each top-level member, so its memory does not grow with the
 * message. It answers what `JSON.parse` followed by a look at each member would: the message (an
 * object, or a batch array of them) is read like JSON.parse reads it (escaped keys decoded, the
 * last of duplicate keys wins), and text JSON.parse refuses gives `null`. So does text nested
 * deeper than `MAX_DEPTH` (the scan keeps one number per open container): such a message answers
 * nothing here, and its calls' leases are released when the socket ends, as for an unreadable one.
 */

import { decodeJsonString, isDigit, jsonNumberEnd, jsonStringEnd, skipJsonSpace, type JsonLexError } from '../lib/json-lexer';

/** A response: a member object with an `id` and no `method` (a request or notification has one). */
interface Member {
  idStart: number;
  idEnd: number;
  hasMethod: boolean;
}

/** Containers open at once; deeper text is not read (the origin's own JSON-RPC nests a few levels). */
const MAX_DEPTH = 512;
/** Ids longer than this (raw JSON) are not read: nothing a client sends as an id is this long in practice. */
const MAX_ID_CHARS = 1024;
/** Longest raw key that can decode to `id` or `method` (every character escaped as \uXXXX). */
const MAX_NAME_CHARS = 2 + 6 * 6;

/** The decoded name of a key whose raw text is t[start, end), when it could be `id` or `method`. */
function keyName(t: string, start: number, end: number): string | null {
  return end - start > MAX_NAME_CHARS ? null : decodeJsonString(t, start, end);
}

/**
 * The ids (as `JSON.stringify` writes them) of the responses in `text`, in order; `[]` for a
 * message that answers nothing; `null` when `text` is not JSON.
 */
export function responseIds(text: string): string[] | null {
  const t = text;
  const n = t.length;
  // The kinds (1 object, 2 array) of the containers open around the cursor, outermost first.
  let depth = 0;
  let rootKind = 0;
  const kinds: number[] = [];
  const members: Member[] = [];
  let member: Member | null = null; // the member object being read (its keys are at this depth)
  let memberDepth = 0;
  let pendingId = -1; // start of the `id` value being read in the member object
  let i = 0;
  // After a complete value: commas, closers, or the end.
  const afterValue = (): boolean => {
    for (;;) {
      i = skipJsonSpace(t, i);
      if (member && depth === memberDepth && pendingId >= 0) {
        member.idStart = pendingId;
        member.idEnd = i;
        pendingId = -1;
      }
      if (depth === 0) return i === n;
      const kind = kinds[depth - 1];
      const c = t.charCodeAt(i);
      if (c === 0x2c) {
        i++;
        return kind === 2 || readKey();
      }
      if ((kind === 1 && c !== 0x7d) || (kind === 2 && c !== 0x5d)) return false;
      i++;
      if (member && depth === memberDepth) member = null;
      kinds.pop();
      depth--;
      continue;
    }
  };
  // Inside an object, after `{` or `,`: a key, a colon, then a value follows.
  const readKey = (): boolean => {
    i = skipJsonSpace(t, i);
    if (t.charCodeAt(i) !== 0x22) return false;
    const end = jsonStringEnd(t, i);
    if (typeof end !== 'number') return false;
    if (member && depth === memberDepth) {
      const name = keyName(t, i, end);
      if (name === 'method') member.hasMethod = true;
      i = end;
      i = skipJsonSpace(t, i);
      if (t.charCodeAt(i) !== 0x3a) return false;
      i++;
      i = skipJsonSpace(t, i);
      if (name === 'id') pendingId = i;
      return true;
    }
    i = end;
    i = skipJsonSpace(t, i);
    if (t.charCodeAt(i) !== 0x3a) return false;
    i++;
    return true;
  };
  for (;;) {
    // A value starts here.
    i = skipJsonSpace(t, i);
    const c = t.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      const kind = c === 0x7b ? 1 : 2;
      i++;
      if (depth === MAX_DEPTH) return null;
      kinds.push(kind);
      depth++;
      if (depth === 1) rootKind = kind;
      // Members: the root object, or each object directly in a root (batch) array.
      if (kind === 1 && (depth === 1 || (depth === 2 && rootKind === 2))) {
        member = { idStart: -1, idEnd: -1, hasMethod: false };
        memberDepth = depth;
        members.push(member);
      }
      i = skipJsonSpace(t, i);
      const close = kind === 1 ? 0x7d : 0x5d;
      if (t.charCodeAt(i) === close) {
        i++;
        if (member && depth === memberDepth) member = null;
        kinds.pop();
        depth--;
        if (!afterValue()) return null;
        if (depth === 0) break;
        continue;
      }
      if (kind === 1 && !readKey()) return null;
      continue;
    }
    let end: number | JsonLexError;
    if (c === 0x22) end = jsonStringEnd(t, i);
    else if (c === 0x2d || isDigit(c)) end = jsonNumberEnd(t, i);
    else if (t.startsWith('true', i)) end = i + 4;
    else if (t.startsWith('false', i)) end = i + 5;
    else if (t.startsWith('null', i)) end = i + 4;
    else return null;
    if (typeof end !== 'number') return null;
    i = end;
    if (!afterValue()) return null;
    if (depth === 0) break;
  }
  const ids: string[] = [];
  for (const m of members) {
    if (m.hasMethod || m.idStart < 0 || m.idEnd - m.idStart > MAX_ID_CHARS) continue;
    ids.push(JSON.stringify(JSON.parse(t.slice(m.idStart, m.idEnd))));
  }
  return ids;
}
