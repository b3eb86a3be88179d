/**
 * Character encoding of a fetched page, in the order the HTML Standard's encoding sniffing
 * uses (§13.2.3.1–3): byte order mark, then the Content-Type `charset` parameter, then a
 * `<meta charset>` / `<meta http-equiv="Content-Type">` pre-scan of the first 1024 bytes,
 * defaulting to UTF-8. Decoding uses TextDecoder (invalid bytes become U+FFFD). Pure.
 */
const PRESCAN_BYTES = 1024;

function supported(label: string | undefined | null): string | null {
  if (!label) return null;
  const cleaned = label
    .trim()
    .replace(/^["']|["']$/g, '')
    .toLowerCase();
  if (!cleaned) return null;
  try {
    // TextDecoder normalizes labels (e.g. "latin1" → "windows-1252") and throws on unknown ones.
    return new TextDecoder(cleaned).encoding;
  } catch {
    return null;
  }
}

/** The charset parameter of a Content-Type header, if any. */
export function charsetFromContentType(contentType: string | null): string | null {
  const match = /;\s*charset\s*=\s*("[^"]*"|[^;\s]+)/i.exec(contentType ?? '');
  return match ? match[1]!.replace(/"/g, '') : null;
}

/** The charset declared by a `<meta>` in the first 1024 bytes, if any. */
export function charsetFromMeta(bytes: Uint8Array): string | null {
  const head = new TextDecoder('windows-1252').decode(bytes.subarray(0, PRESCAN_BYTES));
  for (const meta of head.matchAll(/<meta\b[^>]*>/gi)) {
    const tag = meta[0];
    const direct = /\bcharset\s*=\s*["']?([^"'\s/>;]+)/i.exec(tag);
    if (direct && !/http-equiv/i.test(tag)) return direct[1]!;
    if (/http-equiv\s*=\s*["']?content-type/i.test(tag)) {
      const content = /\bcontent\s*=\s*("[^"]*"|'[^']*')/i.exec(tag)?.[1];
      const fromContent = content ? charsetFromContentType(content.slice(1, -1)) : null;
      if (fromContent) return fromContent;
    }
  }
  return null;
}

function fromBom(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  return null;
}

/** Picks the encoding for a document's bytes (falls back to UTF-8). */
export function detectEncoding(bytes: Uint8Array, contentType: string | null): string {
  return fromBom(bytes) ?? supported(charsetFromContentType(contentType)) ?? supported(charsetFromMeta(bytes)) ?? 'utf-8';
}

/** Decodes a document's bytes to a string using the detected encoding. */
export function decodeDocument(bytes: Uint8Array, contentType: string | null): { text: string; encoding: string } {
  const encoding = detectEncoding(bytes, contentType);
  return { text: new TextDecoder(encoding).decode(bytes), encoding };
}
