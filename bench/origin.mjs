// A tiny fixed-response origin for benchmarks: answers every request with a small Crawl4AI-shaped body.
import http from 'node:http';

const BODY = JSON.stringify({
  success: true,
  results: [{ url: 'https://example.com/', success: true, status_code: 200, markdown: { raw_markdown: '# Example' } }],
});

export async function startBenchOrigin(port = 0) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(BODY) });
      res.end(BODY);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}
