// npm run bench:exports — shows that an export's memory does not grow with the job.
//
// Streams generated CrawlResult records (~4 KB each, with hostile characters) through the real
// export pipeline (src/exports/stream.ts: validate → encode → gzip → sha256) in Node, one child
// process per run so each peak is its own, and prints peak RSS and heap against the record count.
// The reader is slow on purpose (it yields to the event loop for every chunk), like a socket.
// A "buffered" row shows what building the same JSON in memory would cost, for contrast.
//
// Node 20's own CompressionStream (a web-streams adapter over zlib) does not pass backpressure
// back to its writer: it swallows the whole input (measured: 188 MB written → 377 MB external
// memory). workerd's CompressionStream is native and does (test/exports/encoders.test.ts
// "backpressure" shows the source is not drained through gzip). So the compressed rows here use a
// zlib-backed CompressionStream that waits for zlib's 'drain', as workerd's does; the row marked
// "node-cs" keeps Node's built-in one to show the difference.
// Options: --sizes 1000,10000,50000
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

function makeRecord(i) {
  return {
    url: `https://example.com/page/${i}?q="a,b"`,
    success: true,
    status_code: 200,
    html: '',
    cleaned_html: '',
    markdown: {
      raw_markdown: `# Page ${i}\n\n` + 'Lorem "ipsum", <script>x</script> ]]> 😀 \u0001 line\r\n'.repeat(60),
      markdown_with_citations: '',
      references_markdown: '',
      fit_markdown: '',
    },
    links: { internal: [{ href: `/p/${i + 1}`, text: 'next' }], external: [] },
    media: { images: [], videos: [], audios: [] },
    metadata: { title: `=Title ${i}`, description: 'desc' },
    error_message: null,
    redirected_url: null,
    response_headers: { 'content-type': 'text/html' },
    screenshot: null,
    pdf: null,
  };
}

/** CompressionStream over zlib that respects backpressure in both directions. */
class BoundedCompressionStream extends TransformStream {
  constructor(format) {
    const z = format === 'gzip' ? zlib.createGzip() : zlib.createDeflate();
    let controller;
    super({
      start(c) {
        controller = c;
        z.on('data', (d) => controller.enqueue(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
      },
      transform(chunk) {
        return new Promise((resolve, reject) => {
          z.once('error', reject);
          if (z.write(chunk)) resolve();
          else z.once('drain', resolve);
        });
      },
      flush() {
        return new Promise((resolve) => {
          z.once('end', resolve);
          z.end();
        });
      },
    });
  }
}

async function child(n, format, compression, nodeCs) {
  if (!nodeCs) globalThis.CompressionStream = BoundedCompressionStream;
  const { createExportStream } = await import('../src/exports/stream.ts');
  const { generatedSource, recordsOf } = await import('../src/exports/source.ts');
  const peak = { rss: 0, heap: 0, ext: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.ext = Math.max(peak.ext, m.external + m.arrayBuffers);
  };
  const start = Date.now();
  let bytes = 0;
  if (format === 'buffered-json') {
    const all = [];
    for (let i = 0; i < n; i++) all.push(makeRecord(i));
    sample();
    const text = JSON.stringify(all);
    sample();
    bytes = Buffer.byteLength(text);
  } else {
    const { stream, done } = createExportStream(recordsOf(generatedSource(n, makeRecord, 100)), { format, compression, fields: null });
    const reader = stream.getReader();
    let chunks = 0;
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      bytes += value.byteLength;
      if (++chunks % 16 === 0) sample();
      await new Promise((r) => setImmediate(r)); // a slow consumer
    }
    const stats = await done;
    if (stats.records !== n) throw new Error(`wrote ${stats.records} of ${n}`);
  }
  sample();
  process.stdout.write(JSON.stringify({ ...peak, bytes, ms: Date.now() - start }));
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4], process.argv[5], process.argv[6] === 'node-cs');
} else {
  const sizes = arg('sizes', '1000,10000,50000').split(',').map(Number);
  const runs = [
    ['ndjson', 'gzip'],
    ['json', 'none'],
    ['csv', 'gzip'],
    ['xml', 'gzip'],
    ['html', 'deflate'],
    ['ndjson', 'gzip', 'node-cs'],
    ['buffered-json', 'none'],
  ];
  const mb = (b) => (b / 1048576).toFixed(1);
  console.log('format+compression        records   output MB   peak RSS MB   peak heap MB   peak external MB   time s');
  for (const [format, compression, variant = ''] of runs) {
    for (const n of sizes) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', String(n), format, compression, variant], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      if (r.status !== 0) {
        console.log(`${format}+${compression} ${n}: failed ${r.stderr.slice(-400)}`);
        continue;
      }
      const m = JSON.parse(r.stdout);
      console.log(
        `${`${format}+${compression}${variant ? ` (${variant})` : ''}`.padEnd(25)} ${String(n).padStart(8)} ${(m.bytes / 1048576).toFixed(2).padStart(11)} ${mb(m.rss).padStart(13)} ${mb(m.heap).padStart(14)} ${mb(m.ext).padStart(18)} ${(m.ms / 1000).toFixed(1).padStart(8)}`,
      );
    }
  }
}
