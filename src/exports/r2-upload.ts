/**
 * Streams an export of unknown length into R2. R2 `put` needs a known length, so the stream is cut
 * into fixed-size parts of a multipart upload (R2 wants every part but the last the same size, at
 * least 5 MiB). One part is buffered at a time: memory is `partSize`, whatever the export size.
 * An export that fits in one part is a single `put`.
 */

/** 8 MiB parts: above R2's 5 MiB minimum, 10,000 parts → exports up to ~78 GiB. */
export const PART_SIZE = 8 * 1024 * 1024;

export interface UploadResult {
  bytes: number;
  parts: number;
}

export async function uploadStream(
  bucket: R2Bucket,
  key: string,
  stream: ReadableStream<Uint8Array>,
  options: R2PutOptions & R2MultipartOptions,
  partSize = PART_SIZE,
): Promise<UploadResult> {
  const reader = stream.getReader();
  const buffer = new Uint8Array(partSize);
  let filled = 0;
  let bytes = 0;
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      let offset = 0;
      while (offset < value.byteLength) {
        const n = Math.min(partSize - filled, value.byteLength - offset);
        buffer.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === partSize) {
          upload ??= await bucket.createMultipartUpload(key, options);
          // Awaited before the buffer is refilled, so the part is sent before its bytes change.
          parts.push(await upload.uploadPart(parts.length + 1, buffer));
          filled = 0;
        }
      }
    }
    if (!upload) {
      await bucket.put(key, buffer.subarray(0, filled), options);
      return { bytes, parts: 1 };
    }
    if (filled > 0) parts.push(await upload.uploadPart(parts.length + 1, buffer.subarray(0, filled)));
    await upload.complete(parts);
    return { bytes, parts: parts.length };
  } catch (err) {
    await upload?.abort().catch(() => {});
    await reader.cancel(err).catch(() => {});
    throw err;
  }
}
