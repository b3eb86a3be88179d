/**
 * The export pipeline: records → validate → encode → UTF-8 → (gzip|deflate) → checksum.
 *
 * Pull-based end to end: the source `ReadableStream` has a high-water mark of 0, so its `pull()`
 * runs only when the consumer (client socket, R2 upload) asks for more, and then reads records just
 * until about `CHUNK_CHARS` of text are ready. Nothing else is buffered, so memory depends on the
 * largest record, never on the job size. Works in workerd and Node (the benchmark runs it there).
 */
import { createHash } from 'node:crypto';
import { checkRecord } from './record-schema';
import { encoderFor, type ExportCompression, type ExportFormat } from './formats';

/** Text gathered before one chunk is handed on (a single larger record is one larger chunk). */
export const CHUNK_CHARS = 64 * 1024;
/** How many invalid records are listed by index in the manifest (all are counted). */
export const MAX_LISTED_INVALID = 1000;

export interface ExportStreamOptions {
  format: ExportFormat;
  compression: ExportCompression;
  fields: readonly string[] | null;
}

export interface InvalidRecord {
  /** Position of the record in the job's results (0-based). */
  index: number;
  reason: string;
}

/** What the stream saw, known once its last byte has been read. */
export interface ExportStats {
  records: number;
  invalid: number;
  invalid_records: InvalidRecord[];
  /** True when more invalid records exist than are listed. */
  invalid_truncated: boolean;
  /** Size and SHA-256 (hex) of the bytes delivered (after compression). */
  bytes: number;
  sha256: string;
}

export interface ExportStream {
  stream: ReadableStream<Uint8Array>;
  /** Resolves when the last byte has passed through; rejects if the source failed. */
  done: Promise<ExportStats>;
}

/** Builds the export stream over any async sequence of records (see `recordsOf(source)`). */
export function createExportStream(records: AsyncIterable<unknown>, options: ExportStreamOptions): ExportStream {
  const encoder = encoderFor(options.format, options.fields);
  const utf8 = new TextEncoder();
  const iterator = records[Symbol.asyncIterator]();
  const stats = { records: 0, invalid: 0, invalid_records: [] as InvalidRecord[], invalid_truncated: false };
  let index = 0;
  let started = false;

  const reject = (reason: string): void => {
    stats.invalid++;
    if (stats.invalid_records.length < MAX_LISTED_INVALID) stats.invalid_records.push({ index, reason });
    else stats.invalid_truncated = true;
  };

  const text = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let out = started ? '' : encoder.begin();
        started = true;
        while (out.length < CHUNK_CHARS) {
          const next = await iterator.next();
          if (next.done) {
            out += encoder.end(stats.records);
            if (out) controller.enqueue(utf8.encode(out));
            controller.close();
            return;
          }
          const check = checkRecord(next.value);
          if (!check.ok) reject(check.reason);
          else {
            try {
              // The whole record is encoded before any of it is queued: never written half.
              out += encoder.record(check.record, stats.records);
              stats.records++;
            } catch (err) {
              reject(`cannot be encoded: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200));
            }
          }
          index++;
        }
        controller.enqueue(utf8.encode(out));
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );

  const compressed = options.compression === 'none' ? text : text.pipeThrough(new CompressionStream(options.compression));

  const hash = createHash('sha256');
  let bytes = 0;
  let settle!: { resolve: (s: ExportStats) => void; reject: (e: unknown) => void };
  const done = new Promise<ExportStats>((resolve, rejectDone) => {
    settle = { resolve, reject: rejectDone };
  });
  done.catch(() => {}); // a caller that never awaits `done` must not see an unhandled rejection

  const reader = compressed.getReader();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done: end } = await reader.read();
          if (end) {
            settle.resolve({ ...stats, bytes, sha256: hash.digest('hex') });
            controller.close();
            return;
          }
          hash.update(value);
          bytes += value.byteLength;
          controller.enqueue(value);
        } catch (err) {
          settle.reject(err);
          controller.error(err);
        }
      },
      async cancel(reason) {
        settle.reject(new Error('export cancelled'));
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, done };
}
