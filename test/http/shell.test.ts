import { describe, expect, it } from 'vitest';
import { call, problem } from '../helpers/http';

const SECURITY_HEADERS = {
  'strict-transport-security': /max-age=\d{7,}/,
  'x-content-type-options': /^nosniff$/,
  'x-frame-options': /^DENY$/,
  'referrer-policy': /^no-referrer$/,
  'content-security-policy': /default-src 'none'; frame-ancestors 'none'/,
  'cache-control': /no-store/,
};

function expectSecurityHeaders(res: Response) {
  for (const [name, pattern] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toMatch(pattern);
  expect(res.headers.get('x-xss-protection')).not.toBe('1; mode=block');
}

describe('security headers', () => {
  it('are on a 200', async () => {
    const res = await call('/health');
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
  });

  it('are on a 404 problem', async () => {
    const res = await call('/no/such/route');
    expect(res.status).toBe(404);
    expectSecurityHeaders(res);
    expect((await problem(res)).code).toBe('not_found');
  });

  it('are on a 401 problem', async () => {
    const res = await call('/metrics', { ip: '192.0.2.1' });
    expect(res.status).toBe(401);
    expectSecurityHeaders(res);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
  });
});

describe('errors', () => {
  it('are RFC 9457 problem JSON with detail, code and request_id', async () => {
    const res = await call('/nope', { headers: { 'X-Request-Id': 'req-12345678' } });
    const body = await problem(res);
    expect(body).toMatchObject({ status: 404, code: 'not_found', request_id: 'req-12345678', title: 'Not found' });
    expect(body.type).toMatch(/^https:\/\//);
    expect(body.detail).toContain('/nope');
  });

  it('405 with Allow when the path exists under another method', async () => {
    const res = await call('/health', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET');
    expect((await problem(res)).code).toBe('method_not_allowed');
  });
});

describe('X-Request-Id', () => {
  it('echoes a well-formed incoming id', async () => {
    const res = await call('/health', { headers: { 'X-Request-Id': 'abc-123_DEF.456' } });
    expect(res.headers.get('X-Request-Id')).toBe('abc-123_DEF.456');
  });

  it.each(['short', 'has spaces in it', 'x'.repeat(200), 'inject\r\nheader'.replace(/[\r\n]/g, '%0d')])(
    'replaces a malformed one (%s)',
    async (bad) => {
      const res = await call('/health', { headers: { 'X-Request-Id': bad } });
      const id = res.headers.get('X-Request-Id');
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('generates a different id per request', async () => {
    const a = (await call('/health')).headers.get('X-Request-Id');
    const b = (await call('/health')).headers.get('X-Request-Id');
    expect(a).not.toBe(b);
  });
});

describe('CORS', () => {
  it('allows the exact configured origin, with Vary: Origin', async () => {
    const res = await call('/health', { headers: { Origin: 'https://app.example.com' } });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example.com');
    expect(res.headers.get('Vary')).toContain('Origin');
  });

  it.each([
    'https://app.example.com.evil.test',
    'https://evil-app.example.com',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://APP.example.com.attacker.io',
    'null',
  ])('gives a look-alike origin (%s) nothing', async (origin) => {
    const res = await call('/health', { headers: { Origin: origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(res.headers.get('Vary')).toContain('Origin');
  });

  it('answers a preflight from the allowed origin with the configured methods and headers', async () => {
    const res = await call('/crawl', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example.com');
    expect(res.headers.get('Access-Control-Allow-Headers')).toContain('Authorization');
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
  });

  it('refuses a preflight from any other origin, without CORS headers', async () => {
    const res = await call('/crawl', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});

describe('hosts and HTTPS', () => {
  it('refuses a host outside TRUSTED_HOSTS', async () => {
    const res = await call('https://evil.test/health');
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe('invalid_host');
  });

  it('refuses a look-alike host', async () => {
    expect((await call('https://crawlgate.test.evil.test/health')).status).toBe(400);
  });

  it('redirects plain HTTP to HTTPS for a non-local host (301)', async () => {
    const res = await call('http://crawlgate.test/health?x=1');
    expect(res.status).toBe(301);
    expect(res.headers.get('Location')).toBe('https://crawlgate.test/health?x=1');
  });

  it('serves plain HTTP on localhost (local development)', async () => {
    const res = await call('http://localhost/health');
    expect(res.status).toBe(200);
  });
});

describe('body size cap', () => {
  it('refuses a declared Content-Length over MAX_BODY_BYTES with 413', async () => {
    const res = await call('/health', { method: 'POST', body: 'x'.repeat(70_000), headers: { 'Content-Type': 'text/plain' } });
    expect(res.status).toBe(413);
    const body = await problem(res);
    expect(body.code).toBe('payload_too_large');
    expect(body.limit_bytes).toBe(65536);
  });

  it('refuses a chunked body (no Content-Length) once the stream passes the cap', async () => {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 200_000) return controller.close();
        controller.enqueue(new Uint8Array(10_000).fill(120));
        sent += 10_000;
      },
    });
    const res = await call('/health', { method: 'POST', body: stream, headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(200_000);
  });

  it('lets a body within the cap through to routing', async () => {
    const res = await call('/health', { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(405);
  });
});
