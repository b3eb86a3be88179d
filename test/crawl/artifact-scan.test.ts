/**
 * The streaming artifact-id scanner against a reference that parses the whole answer: for any
 * answer and any way of cutting it into chunks, the scanner finds exactly the ids a JSON reading
 * finds (`artifact_id` members and `/artifacts/{id}` strings), and none hidden inside other strings.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArtifactIdScanner, MAX_IDS_PER_ANSWER } from '../../src/crawl/artifact-scan';

const ID = /^[0-9a-f]{32}$/;

/** Reference: every id a JSON reading of the answer names, at any depth. */
function idsByParsing(value: unknown, out = new Set<string>()): Set<string> {
  if (value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (const v of value) idsByParsing(v, out);
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'artifact_id' && typeof v === 'string' && ID.test(v)) out.add(v);
    else if (typeof v === 'string' && /^\/artifacts\/[0-9a-f]{32}$/.test(v)) out.add(v.slice('/artifacts/'.length));
    else if (typeof v === 'object') idsByParsing(v, out);
  }
  return out;
}

function scanInChunks(bytes: Uint8Array, cuts: number[]): Set<string> {
  const scanner = new ArtifactIdScanner();
  const found = new Set<string>();
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    for (const id of scanner.push(bytes.subarray(at, cut))) found.add(id);
    at = cut;
  }
  for (const id of scanner.push(bytes.subarray(at))) found.add(id);
  for (const id of scanner.end()) found.add(id);
  return found;
}

const hexId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(''));
const artifact = hexId.map((id) => ({ artifact_id: id, url: `/artifacts/${id}`, mime: 'image/png' }));
// Strings that mention ids without naming them: escaped JSON inside text, ids of the wrong length.
const decoy = fc.oneof(
  hexId.map((id) => `{"artifact_id": "${id}"}`),
  hexId.map((id) => `see /artifacts/${id} later`),
  hexId.map((id) => `${id}0`),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const answer = fc.record({
  success: fc.boolean(),
  screenshot: fc.base64String({ maxLength: 3000 }),
  note: decoy,
  results: fc.array(fc.oneof(artifact, fc.record({ text: decoy })), { maxLength: 4 }),
  main: fc.option(artifact, { nil: undefined }),
});

describe('ArtifactIdScanner', () => {
  it('finds exactly the ids a JSON reading finds, however the answer is chunked and spaced', () => {
    fc.assert(
      fc.property(answer, fc.constantFrom(0, 1, 2), fc.array(fc.nat(), { maxLength: 12 }), (value, indent, rawCuts) => {
        const text = JSON.stringify(value, null, indent);
        const bytes = new TextEncoder().encode(text);
        const cuts = rawCuts.map((n) => n % (bytes.length + 1));
        expect([...scanInChunks(bytes, cuts)].sort()).toEqual([...idsByParsing(JSON.parse(text))].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('cuts through an id byte by byte and still finds it once; stops recording past its cap', () => {
    const id = 'a'.repeat(32);
    const bytes = new TextEncoder().encode(`{"x":"${'é'.repeat(50)}","artifact_id":"${id}","url":"/artifacts/${id}"}`);
    const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
    expect([...scanInChunks(bytes, everyByte)]).toEqual([id]);

    const many = Array.from({ length: MAX_IDS_PER_ANSWER + 10 }, (_, i) => ({ artifact_id: i.toString(16).padStart(32, '0') }));
    expect(scanInChunks(new TextEncoder().encode(JSON.stringify(many)), []).size).toBe(MAX_IDS_PER_ANSWER);
  });
});
