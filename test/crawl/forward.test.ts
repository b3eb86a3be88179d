/** Forwarding to the origin: header hygiene, signed identity, streaming, timeouts, redirects. */
import { describe, expect, it } from 'vitest';
import { problem } from '../helpers/http';
import { callAs, credentialFor, newRequestId, originSaw, originUrl } from '../helpers/principal';
import { TEST_VARS } from '../helpers/test-vars';

const user = credentialFor({
  id: 'key_forward_user',
  permissions: ['crawl:run', 'crawl:screenshot', 'crawl:pdf', 'jobs:write', 'jobs:read'],
});

/** The seed's "Using API with API Key" payload, unchanged. */
const SEED_PAYLOAD = {
  urls: ['https://example.com'],
  browser_config: { type: 'BrowserConfig', params: { headless: true } },
  crawler_config: { type: 'CrawlerRunConfig', params: { cache_mode: 'bypass' } },
};

function b64urlToBytes(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

function bytesToB64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

async function hmac(key: Uint8Array, data: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(data)));
}

/** The verification recipe from docs/crawling.md, written independently of src/. */
async function verifyIdentity(token: string, originSecret: string): Promise<Record<string, unknown>> {
  const [h, p, s] = token.split('.') as [string, string, string];
  const key = await hmac(new TextEncoder().encode(originSecret), 'crawlgate-identity-v1');
  const expected = bytesToB64url(await hmac(key, `${h}.${p}`));
  if (expected !== s) throw new Error('bad signature');
  const header = JSON.parse(new TextDecoder().decode(b64urlToBytes(h)));
  if (header.alg !== 'HS256' || header.typ !== 'crawlgate-identity+jwt') throw new Error('bad header');
  return JSON.parse(new TextDecoder().decode(b64urlToBytes(p)));
}

describe('POST /crawl forwarded to the origin', () => {
  it("answers the seed example with the origin's Crawl4AI-shaped result, leaky origin headers stripped", async () => {
    const rid = newRequestId('seed');
    const res = await callAs(user, '/crawl', { json: SEED_PAYLOAD, headers: { 'X-Request-Id': rid } });
    expect(res.status).toBe(200);
    const body = await res.json<{ success: boolean; results: Array<{ url: string; markdown: { raw_markdown: string } }> }>();
    expect(body.success).toBe(true);
    expect(body.results[0]?.url).toBe('https://example.com/');
    expect(body.results[0]?.markdown.raw_markdown).toBe('# Hello');
    expect(res.headers.get('Set-Cookie')).toBeNull();
    expect(res.headers.get('Server')).toBeNull();
    expect(res.headers.get('X-Powered-By')).toBeNull();
    expect(res.headers.get('X-Request-Id')).toBe(rid);
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    const seen = await originSaw(rid);
    expect(JSON.parse(seen!.body)).toEqual({ ...SEED_PAYLOAD, urls: ['https://example.com/'] });
  });

  it('replaces client credentials, cookies and identity headers with the origin credential', async () => {
    const rid = newRequestId('hygiene');
    const res = await callAs(user, '/crawl', {
      json: { urls: ['https://example.com/'] },
      ip: '203.0.113.7',
      headers: {
        'X-Request-Id': rid,
        'X-API-Key': user,
        Cookie: 'session=client-cookie',
        'X-Forwarded-For': '6.6.6.6',
        'X-Real-IP': '6.6.6.6',
        Forwarded: 'for=6.6.6.6',
        'X-Crawlgate-Identity': 'forged',
        'X-User-Id': 'admin',
        'Accept-Language': 'en',
        'User-Agent': 'python-requests/2.32',
      },
    });
    expect(res.status).toBe(200);
    const h = (await originSaw(rid))!.headers;
    expect(h.authorization).toBe(`Bearer ${TEST_VARS.ORIGIN_SECRET}`);
    expect(h['x-api-key']).toBeUndefined();
    expect(h.cookie).toBeUndefined();
    expect(h['x-forwarded-for']).toBe('203.0.113.7');
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h['x-real-ip']).toBeUndefined();
    expect(h.forwarded).toBeUndefined();
    expect(h['x-user-id']).toBeUndefined();
    expect(h['x-request-id']).toBe(rid);
    expect(h['x-crawlgate-identity']).not.toBe('forged');
    expect(h['accept-language']).toBe('en');
    expect(h['user-agent']).toBe('python-requests/2.32');
    expect(JSON.stringify(h)).not.toContain(user);
  });

  it('sends a signed identity the origin can verify with the documented recipe', async () => {
    const rid = newRequestId('identity');
    const res = await callAs(user, '/crawl', { json: { urls: ['https://example.com/'] }, headers: { 'X-Request-Id': rid } });
    expect(res.status).toBe(200);
    const token = (await originSaw(rid))!.headers['x-crawlgate-identity'] as string;
    const claims = await verifyIdentity(token, TEST_VARS.ORIGIN_SECRET);
    expect(claims).toMatchObject({
      iss: 'crawlgate',
      aud: 'crawlgate-origin',
      sub: 'key_forward_user',
      kind: 'key',
      tenant: 'key_forward_user',
      request_id: rid,
      htm: 'POST',
      htu: '/crawl',
    });
    expect(claims.scopes).toEqual(['crawl:pdf', 'crawl:run', 'crawl:screenshot', 'jobs:read', 'jobs:write']);
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(60);
    await expect(verifyIdentity(token, 'another-secret-of-enough-length-0123456789')).rejects.toThrow('bad signature');
  });

  it('refuses anonymous callers before anything reaches the origin', async () => {
    const rid = newRequestId('anon');
    const res = await callAs(null, '/crawl', { json: SEED_PAYLOAD, headers: { 'X-Request-Id': rid } });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    expect(await originSaw(rid)).toBeNull();
  });

  it('refuses a principal without crawl:run with 403 insufficient_scope', async () => {
    const viewer = credentialFor({ id: 'key_viewer', permissions: ['jobs:read'] });
    const res = await callAs(viewer, '/crawl', { json: SEED_PAYLOAD });
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe('insufficient_scope');
  });
});

describe('POST /crawl/stream', () => {
  it('passes the first NDJSON line through before the origin has finished', async () => {
    const rid = newRequestId('stream');
    const res = await callAs(user, '/crawl/stream', {
      json: { urls: ['https://example.com/a', 'https://example.com/b'] },
      headers: { 'X-Request-Id': rid },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/x-ndjson');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    // The origin holds the rest until released: had the gateway buffered, this line never came.
    expect(JSON.parse(text.split('\n')[0]!).url).toBe('https://example.com/a');
    expect(text).not.toContain('completed');
    await fetch(`${originUrl()}/__release?request_id=${encodeURIComponent(rid)}`);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.url ?? l.status)).toEqual(['https://example.com/a', 'https://example.com/b', 'completed']);
  });
});

describe('origin failures', () => {
  it('cuts a stream whose origin goes silent for longer than ORIGIN_TIMEOUT_MS', async () => {
    const rid = newRequestId('idle');
    const res = await callAs(user, '/crawl/stream', {
      json: { urls: ['https://example.com/a', 'https://example.com/b'] },
      headers: { 'X-Request-Id': rid },
      vars: { ORIGIN_TIMEOUT_MS: '1000' },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let failed = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    } catch {
      failed = true;
    }
    await fetch(`${originUrl()}/__release?request_id=${encodeURIComponent(rid)}`);
    // The first result arrived; the origin never finished, so neither did the client's stream.
    expect(text).toContain('https://example.com/a');
    expect(text).not.toContain('completed');
    expect(failed || !text.includes('example.com/b')).toBe(true);
  });

  it('aborts a hanging origin at ORIGIN_TIMEOUT_MS with 504 origin_timeout', async () => {
    const res = await callAs(user, '/crawl', { json: { urls: ['https://hang.example/'] }, vars: { ORIGIN_TIMEOUT_MS: '1000' } });
    expect(res.status).toBe(504);
    expect((await problem(res)).code).toBe('origin_timeout');
  });

  it('answers 502 origin_unavailable when the origin is down', async () => {
    const res = await callAs(user, '/crawl', { json: SEED_PAYLOAD, vars: { ORIGIN_URL: 'http://127.0.0.1:1' } });
    expect(res.status).toBe(502);
    const p = await problem(res);
    expect(p.code).toBe('origin_unavailable');
    expect(p.detail).not.toContain('127.0.0.1');
  });

  it('does not follow an origin redirect to another host, and does not pass its Location on', async () => {
    const res = await callAs(user, '/crawl', { json: { urls: ['https://redirect-away.example/'] } });
    expect(res.status).toBe(502);
    expect(res.headers.get('Location')).toBeNull();
    expect((await problem(res)).code).toBe('origin_unavailable');
  });

  it('passes an origin redirect within the origin back as a gateway path', async () => {
    const res = await callAs(user, '/crawl', { json: { urls: ['https://redirect-home.example/'] } });
    expect(res.status).toBe(307);
    expect(res.headers.get('Location')).toBe('/crawl/stream');
  });

  it('turns an origin 401 (gateway credential refused) into 502, not a client 401', async () => {
    const res = await callAs(user, '/crawl', { json: { urls: ['https://origin-401.example/'] } });
    expect(res.status).toBe(502);
    expect(res.headers.get('WWW-Authenticate')).toBeNull();
  });
});

describe('single-URL routes', () => {
  it.each([
    ['/md', { url: 'https://example.com/', f: 'fit' }, 'markdown'],
    ['/html', { url: 'https://example.com/' }, 'html'],
    ['/screenshot', { url: 'https://example.com/', screenshot_wait_for: 2 }, 'screenshot'],
    ['/pdf', { url: 'https://example.com/' }, 'pdf'],
  ])('%s forwards to the same origin path', async (path, json, field) => {
    const rid = newRequestId('single');
    const res = await callAs(user, path, { json, headers: { 'X-Request-Id': rid } });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty(field);
    expect((await originSaw(rid))!.path).toBe(path);
  });
});
