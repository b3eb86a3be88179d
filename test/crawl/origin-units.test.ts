/** Pure pieces of forwarding: header hygiene, origin target building, redirect rewriting. */
import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, originRequestHeaders } from '../../src/crawl/origin/headers';
import { rewriteRedirect } from '../../src/crawl/origin/forward';
import { originTarget } from '../../src/crawl/origin/client';
import { chooseEngine } from '../../src/crawl/handle';

const id = {
  originSecret: 'origin-secret',
  identityToken: 'a.b.c',
  requestId: 'req-12345678',
  clientIp: '198.51.100.1',
  proto: 'https' as const,
};

describe('originRequestHeaders', () => {
  it('drops hop-by-hop headers and every name Connection lists (RFC 9110 §7.6.1)', () => {
    const client = new Headers({
      Connection: 'keep-alive, Accept-Language',
      'Keep-Alive': 'timeout=5',
      TE: 'trailers',
      'Accept-Language': 'en',
      Accept: 'application/json',
      'Proxy-Authorization': 'Basic x',
    });
    const out = originRequestHeaders(client, id);
    expect(out.get('accept')).toBe('application/json');
    for (const h of ['connection', 'keep-alive', 'te', 'accept-language', 'proxy-authorization']) expect(out.get(h)).toBeNull();
  });

  it('keeps Upgrade only for a WebSocket handshake', () => {
    const client = new Headers({ Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'mcp' });
    expect(originRequestHeaders(client, id).get('upgrade')).toBeNull();
    const ws = originRequestHeaders(client, id, { websocket: true });
    expect(ws.get('upgrade')).toBe('websocket');
    expect(ws.get('sec-websocket-protocol')).toBe('mcp');
  });

  it('omits X-Forwarded-For when there is no CF-Connecting-IP', () => {
    expect(
      originRequestHeaders(new Headers({ 'X-Forwarded-For': '6.6.6.6' }), { ...id, clientIp: null }).get('x-forwarded-for'),
    ).toBeNull();
  });
});

describe('clientResponseHeaders', () => {
  it('strips leaky and hop-by-hop origin headers but keeps content headers', () => {
    const origin = new Headers({
      Refresh: '0; url=https://evil.example/',
      'Content-Security-Policy': "default-src 'self'",
      'Set-Cookie': 'a=1',
      Server: 'uvicorn',
      'X-Powered-By': 'x',
      'Access-Control-Allow-Origin': '*',
      Connection: 'X-Internal',
      'X-Internal': '1',
      'Transfer-Encoding': 'chunked',
      'Content-Type': 'application/json',
      'X-Stream-Status': 'active',
    });
    const out = clientResponseHeaders(origin);
    expect([...out.keys()].sort()).toEqual(['content-type', 'x-stream-status']);
  });
});

describe('originTarget', () => {
  it('keeps the origin host whatever the path looks like', () => {
    expect(originTarget('http://crawl4ai:11235', '//evil.example/x').href).toBe('http://crawl4ai:11235/evil.example/x');
    expect(originTarget('https://o.example/base/', '/crawl', '?a=1').href).toBe('https://o.example/base/crawl?a=1');
  });
});

describe('rewriteRedirect', () => {
  const target = new URL('http://crawl4ai:11235/crawl');
  it('rewrites redirects inside the origin to gateway paths and refuses the rest', () => {
    expect(rewriteRedirect('/crawl/stream', target, 'http://crawl4ai:11235')).toBe('/crawl/stream');
    expect(rewriteRedirect('http://crawl4ai:11235/x?y=1', target, 'http://crawl4ai:11235')).toBe('/x?y=1');
    expect(rewriteRedirect('https://evil.example/', target, 'http://crawl4ai:11235')).toBeNull();
    expect(rewriteRedirect('//evil.example/', target, 'http://crawl4ai:11235')).toBeNull();
    expect(rewriteRedirect('/other', new URL('https://o.example/base/crawl'), 'https://o.example/base')).toBeNull();
  });
});

describe('chooseEngine', () => {
  it('uses the origin when configured and the body names no engine', () => {
    expect(chooseEngine('http://o', undefined, 'fetch')).toBe('origin');
    expect(chooseEngine('http://o', 'browser', 'fetch')).toBe('browser');
    expect(chooseEngine(undefined, undefined, 'fetch')).toBe('fetch');
  });
});

describe('GET /openapi.json', () => {
  it('documents every crawl route with its permission', async () => {
    const { call } = await import('../helpers/http');
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<{ paths: Record<string, Record<string, { 'x-permission'?: string }>> }>();
    expect(doc.paths['/crawl']?.post?.['x-permission']).toBe('crawl:run');
    expect(doc.paths['/execute_js']?.post?.['x-permission']).toBe('crawl:js');
    expect(doc.paths['/crawl/job/{task_id}']?.get?.['x-permission']).toBe('jobs:read');
    expect(doc.paths['/mcp/ws']?.get).toBeDefined();
  });
});
