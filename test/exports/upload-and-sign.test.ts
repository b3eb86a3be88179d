import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { uploadStream } from '../../src/exports/r2-upload';
import { generatedSource } from '../../src/exports/source';
import { signWebhook, verifyWebhookSignature } from '../../src/webhooks/sign';
import { sha256Hex } from './fixtures';

const bucket = (env as unknown as { RESULTS: R2Bucket }).RESULTS;
const MiB = 1024 * 1024;

function chunkedStream(total: number, chunk: number): { stream: ReadableStream<Uint8Array>; all: Uint8Array } {
  const all = new Uint8Array(total);
  for (let i = 0; i < total; i++) all[i] = (i * 31 + (i >> 13)) & 0xff;
  let offset = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (offset >= total) return c.close();
      c.enqueue(all.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
  return { stream, all };
}

describe('uploadStream (R2, unknown length)', () => {
  it('cuts a stream larger than one part into a multipart upload whose object equals the stream', async () => {
    const { stream, all } = chunkedStream(11 * MiB + 12345, 300_001);
    const result = await uploadStream(bucket, 'test/multipart.bin', stream, { httpMetadata: { contentType: 'application/gzip' } }, 5 * MiB);
    expect(result).toEqual({ bytes: all.byteLength, parts: 3 });
    const obj = await bucket.get('test/multipart.bin');
    const stored = new Uint8Array(await obj!.arrayBuffer());
    expect(stored.byteLength).toBe(all.byteLength);
    expect(await sha256Hex(stored)).toBe(await sha256Hex(all));
    expect(obj!.httpMetadata?.contentType).toBe('application/gzip');
  });

  it('writes a stream smaller than a part with one put (and an empty stream as an empty object)', async () => {
    const { stream, all } = chunkedStream(70_000, 999);
    expect(await uploadStream(bucket, 'test/small.bin', stream, {}, 5 * MiB)).toEqual({ bytes: 70_000, parts: 1 });
    expect(await sha256Hex(new Uint8Array(await (await bucket.get('test/small.bin'))!.arrayBuffer()))).toBe(await sha256Hex(all));
    await uploadStream(bucket, 'test/empty.bin', chunkedStream(0, 1).stream, {}, 5 * MiB);
    expect((await bucket.head('test/empty.bin'))!.size).toBe(0);
  });

  it('aborts and stores nothing when the stream fails midway', async () => {
    let n = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(c) {
        if (++n > 12) return c.error(new Error('source broke'));
        c.enqueue(new Uint8Array(MiB));
      },
    });
    await expect(uploadStream(bucket, 'test/broken.bin', failing, {}, 5 * MiB)).rejects.toThrow('source broke');
    expect(await bucket.head('test/broken.bin')).toBeNull();
  });
});

describe('generatedSource', () => {
  it('pages from a cursor and reports its count', async () => {
    const src = generatedSource(250, (i) => i, 100);
    expect(await src.count()).toBe(250);
    const pages = [];
    for await (const p of src.pages('180')) pages.push(p);
    expect(pages).toEqual([{ records: Array.from({ length: 70 }, (_, i) => 180 + i), next: null }]);
  });
});

describe('webhook signatures', () => {
  const secret = 'whsec_0123456789abcdef0123456789abcdef';
  it('signs timestamp.body with HMAC-SHA-256 and verifies within the tolerance only', async () => {
    const now = 1_800_000_000_000;
    const headers = await signWebhook(secret, '{"a":1}', now);
    expect(headers['X-Crawlgate-Timestamp']).toBe('1800000000');
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode('1800000000.{"a":1}')));
    expect(headers['X-Crawlgate-Signature']).toBe(`t=1800000000,v1=${[...mac].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
    const h = { timestamp: headers['X-Crawlgate-Timestamp']!, signature: headers['X-Crawlgate-Signature']! };
    expect(await verifyWebhookSignature(secret, '{"a":1}', h, now + 299_000)).toBe(true);
    expect(await verifyWebhookSignature(secret, '{"a":1}', h, now + 301_000)).toBe(false);
    expect(await verifyWebhookSignature(secret, '{"a":2}', h, now)).toBe(false);
    expect(await verifyWebhookSignature(secret, '{"a":1}', { ...h, timestamp: '1800000001' }, now)).toBe(false);
    expect(await verifyWebhookSignature(secret, '{"a":1}', { ...h, signature: null }, now)).toBe(false);
    // The signature header alone carries t: a receiver needs no second header, and a forged t fails.
    expect(await verifyWebhookSignature(secret, '{"a":1}', { signature: h.signature }, now)).toBe(true);
    expect(await verifyWebhookSignature(secret, '{"a":1}', { signature: h.signature.replace('t=1800000000', 't=1800000001') }, now)).toBe(
      false,
    );
  });
});
