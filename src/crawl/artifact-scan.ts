/**
 * Finds Crawl4AI artifact ids in an origin answer as it streams past, in bounded memory: the answer
 * is scanned chunk by chunk with a small carry-over for ids split across chunks, never held whole
 * (0.9's `/screenshot` and `/pdf` answers carry the base64 data next to the id, so they can be
 * tens of MB). Pure: no I/O.
 *
 * What counts as an id: the value of an `"artifact_id"` member, or a string that is exactly
 * `"/artifacts/<id>"` (the `url` member), with ids as `uuid4().hex`. Escaped forms inside other
 * strings (`\"artifact_id\"`) do not match. Finding more than the answer's own ids is harmless: an
 * id is recorded for the first tenant only (src/crawl/artifacts.ts, `ON CONFLICT DO NOTHING`).
 */

/** The member form allows a little JSON whitespace; the bound keeps the carry-over small. */
const ID_IN_JSON = /"artifact_id"\s{0,8}:\s{0,8}"([0-9a-f]{32})"|"\\?\/artifacts\\?\/([0-9a-f]{32})"/g;
/** Longer than any match, so a match split across two chunks is whole in carry + next chunk. */
const CARRY_CHARS = 96;
/** Ids recorded per answer at most; a screenshot or PDF answer names one. */
export const MAX_IDS_PER_ANSWER = 256;

export class ArtifactIdScanner {
  private readonly decoder = new TextDecoder();
  private carry = '';
  private readonly seen = new Set<string>();

  /** The ids first seen in this chunk. */
  push(bytes: Uint8Array): string[] {
    return this.find(this.decoder.decode(bytes, { stream: true }));
  }

  /** The ids first seen in what the decoder still held. */
  end(): string[] {
    return this.find(this.decoder.decode());
  }

  private find(text: string): string[] {
    const window = this.carry + text;
    const fresh: string[] = [];
    for (const m of window.matchAll(ID_IN_JSON)) {
      const id = (m[1] ?? m[2]) as string;
      if (this.seen.has(id) || this.seen.size >= MAX_IDS_PER_ANSWER) continue;
      this.seen.add(id);
      fresh.push(id);
    }
    this.carry = window.length > CARRY_CHARS ? window.slice(-CARRY_CHARS) : window;
    return fresh;
  }
}
