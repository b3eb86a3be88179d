/**
 * The lexical rules of JSON text (RFC 8259 §2, §6, §7), shared by the gateway's two readers of
 * JSON: the strict parser of client bodies (strict-json.ts) and the scan of origin answers for
 * JSON-RPC ids (crawl/jsonrpc-ids.ts). Each function reads from an offset and says where the token
 * ends, so a caller can validate without building values; both readers accept exactly the tokens
 * `JSON.parse` accepts.
 */

/** Whitespace between tokens: space, tab, line feed, carriage return — nothing else. */
export function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** The first offset at or after `p` that is not whitespace. */
export function skipJsonSpace(t: string, p: number): number {
  while (p < t.length && isJsonSpace(t.charCodeAt(p))) p++;
  return p;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** A token that does not end where it should: the offset of the offending character (t.length at the end of text). */
export interface JsonLexError {
  at: number;
}

/**
 * The end (exclusive) of the string literal whose opening quote is at `p`, or where it breaks:
 * the end of text (unterminated), a raw control character, or a bad escape.
 */
export function jsonStringEnd(t: string, p: number): number | JsonLexError {
  for (let j = p + 1; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return { at: j };
    if (c !== 0x5c) continue;
    const e = t.charCodeAt(j + 1);
    if (e === 0x75) {
      if (!(isHex(t.charCodeAt(j + 2)) && isHex(t.charCodeAt(j + 3)) && isHex(t.charCodeAt(j + 4)) && isHex(t.charCodeAt(j + 5))))
        return { at: j };
      j += 5;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) j++;
    else return { at: j };
  }
  return { at: t.length };
}

/** The end (exclusive) of the number starting at `p` (`-`, int, fraction, exponent), or where its grammar breaks. */
export function jsonNumberEnd(t: string, p: number): number | JsonLexError {
  let j = p;
  if (t.charCodeAt(j) === 0x2d) j++;
  if (t.charCodeAt(j) === 0x30) j++;
  else if (isDigit(t.charCodeAt(j))) while (isDigit(t.charCodeAt(j))) j++;
  else return { at: j };
  if (t.charCodeAt(j) === 0x2e) {
    if (!isDigit(t.charCodeAt(++j))) return { at: j };
    while (isDigit(t.charCodeAt(j))) j++;
  }
  if (t.charCodeAt(j) === 0x65 || t.charCodeAt(j) === 0x45) {
    j++;
    if (t.charCodeAt(j) === 0x2b || t.charCodeAt(j) === 0x2d) j++;
    if (!isDigit(t.charCodeAt(j))) return { at: j };
    while (isDigit(t.charCodeAt(j))) j++;
  }
  return j;
}

/** The text of a valid string literal t[start, end) decoded; escapes are decoded by `JSON.parse` itself. */
export function decodeJsonString(t: string, start: number, end: number): string {
  const raw = t.slice(start, end);
  return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
}
