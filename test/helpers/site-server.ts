/**
 * A small website (Node http server on 127.0.0.1) for the edge engines to crawl.
 * The edge-engine issue grows it with pages (links, media, charsets, redirects).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from './origin-server';

export async function startSiteServer(): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><head><title>Test site</title></head><body><h1>Hello</h1><p>A page.</p></body></html>');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
