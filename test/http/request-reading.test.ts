/**
 * One reading of each request (issue #26), through the whole app with real Durable Objects, D1 and
 * the test origin: the login limiter, the router and the handler see the same path and media type,
 * an encoded crawl path takes a concurrency lease, ambiguous spellings are refused, and a media type
 * the route does not read is refused (415) before any limiter reads the body.
 */
import { describe, expect, it, vi } from 'vitest';
import { callWith, envWith } from '../helpers/app-env';
import { problem } from '../helpers/http';
import { callAs, credentialFor, newRequestId, originUrl } from '../helpers/principal';
import { uniqueIp } from '../ratelimit/helpers';
import type { Env } from '../../src/env';

// Several sequential requests with fresh Durable Objects each; the shared test machine can be slow.
vi.setConfig({ testTimeout: 60_000 });

const FORM = 'application/x-www-form-urlencoded';

/** One password guess (a wrong password for a user that need not exist). */
function guess(e: Env, path: string, ip: string, username: string, contentType: string, encode: 'form' | 'json' = 'form') {
  const fields = { grant_type: 'password', username, password: `wrong-${crypto.randomUUID()}` };
  return callWith(e, path, {
    method: 'POST',
    headers: { 'CF-Connecting-IP': ip, 'Content-Type': contentType },
    body: encode === 'json' ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
  });
}

const uniqueUser = () => `victim-${crypto.randomUUID().slice(0, 8)}`;

describe('login limiter and router read the same path', () => {
  const ENCODED_LOGIN_PATHS = ['/auth/%74oken', '/%61uth/token', '/auth/%74%6F%6B%65%6E', '/%61%75%74%68/%74%6f%6b%65%6e'];

  it.each(ENCODED_LOGIN_PATHS)('%s counts in the per-IP login bucket the plain path filled (429 login-ip)', async (path) => {
    const e = envWith({ LOGIN_RATE_LIMIT: '2/minute' });
    const ip = uniqueIp();
    expect((await guess(e, '/auth/token', ip, uniqueUser(), FORM)).status).toBe(401);
    expect((await guess(e, '/auth/token', ip, uniqueUser(), FORM)).status).toBe(401);
    const encoded = await guess(e, path, ip, uniqueUser(), FORM);
    expect(encoded.status).toBe(429);
    expect((await problem(encoded)).policy).toBe('login-ip');
  });

  it.each(ENCODED_LOGIN_PATHS)('%s counts in the per-username bucket across addresses (429 login-user)', async (path) => {
    const e = envWith({ LOGIN_RATE_LIMIT: '2/minute' });
    const user = uniqueUser();
    expect((await guess(e, path, uniqueIp(), user, FORM)).status).toBe(401);
    expect((await guess(e, '/auth/token', uniqueIp(), user, FORM)).status).toBe(401);
    const third = await guess(e, path, uniqueIp(), user, FORM);
    expect(third.status).toBe(429);
    expect((await problem(third)).policy).toBe('login-user');
  });

  it('the /token alias spelled /%74oken is a login too', async () => {
    const e = envWith({ LOGIN_RATE_LIMIT: '1/minute' });
    const ip = uniqueIp();
    const body = JSON.stringify({ email: 'a@example.com', api_token: 'sk-not-a-key' });
    const headers = { 'CF-Connecting-IP': ip, 'Content-Type': 'application/json' };
    expect((await callWith(e, '/token', { method: 'POST', headers, body })).status).toBe(401);
    const encoded = await callWith(e, '/%74oken', { method: 'POST', headers, body });
    expect(encoded.status).toBe(429);
  });

  it('stops the brute force of the issue: after 429, encoded spellings are 429 too and the right password does not get in', async () => {
    const e = envWith({ LOGIN_RATE_LIMIT: '3/minute' });
    const { createUser } = await import('../helpers/auth');
    const user = await createUser();
    const ip = uniqueIp();
    for (let i = 0; i < 3; i++) expect((await guess(e, '/auth/token', ip, user.username, FORM)).status).toBe(401);
    expect((await guess(e, '/auth/token', ip, user.username, FORM)).status).toBe(429);
    for (const path of ENCODED_LOGIN_PATHS) expect((await guess(e, path, uniqueIp(), user.username, FORM)).status).toBe(429);
    const right = await callWith(e, '/auth/%74oken', {
      method: 'POST',
      headers: { 'CF-Connecting-IP': uniqueIp(), 'Content-Type': FORM },
      body: new URLSearchParams({ grant_type: 'password', username: user.username, password: user.password }).toString(),
    });
    expect(right.status).toBe(429);
  });
});

describe('login limiter and handler read the same media type', () => {
  // Every spelling here is read as a form by the handler, so the limiter must read the same username.
  const FORM_SPELLINGS = [
    `${FORM}; note="application/json"`,
    `${FORM};x="application/json; charset=utf-8"`,
    'APPLICATION/X-WWW-FORM-URLENCODED',
    `${FORM} ; charset=UTF-8`,
  ];
  const JSON_SPELLINGS = [
    'application/json',
    'Application/JSON; charset=utf-8',
    'application/json;x="multipart/form-data"',
    `application/json ; y="${FORM}"`,
    'application/json; charset="UTF-8"',
  ];

  it.each(FORM_SPELLINGS)('a form sent as "%s" fills the per-username bucket (429 login-user)', async (type) => {
    const e = envWith({ LOGIN_RATE_LIMIT: '2/minute' });
    const user = uniqueUser();
    expect((await guess(e, '/auth/token', uniqueIp(), user, 'application/json', 'json')).status).toBe(401);
    expect((await guess(e, '/auth/token', uniqueIp(), user, type, 'form')).status).toBe(401);
    const third = await guess(e, '/auth/token', uniqueIp(), user, type, 'form');
    expect(third.status).toBe(429);
    expect((await problem(third)).policy).toBe('login-user');
  });

  it.each(JSON_SPELLINGS)('JSON sent as "%s" fills the per-username bucket (429 login-user)', async (type) => {
    const e = envWith({ LOGIN_RATE_LIMIT: '2/minute' });
    const user = uniqueUser();
    expect((await guess(e, '/auth/token', uniqueIp(), user, FORM, 'form')).status).toBe(401);
    expect((await guess(e, '/auth/token', uniqueIp(), user, type, 'json')).status).toBe(401);
    const third = await guess(e, '/auth/token', uniqueIp(), user, type, 'json');
    expect(third.status).toBe(429);
    expect((await problem(third)).policy).toBe('login-user');
  });

  it.each([
    // The spelling: "/" is not allowed in an unquoted parameter value (RFC 9110 §5.6.2).
    [`${FORM}; x=application/json`, 'form'],
    [`${FORM};charset=application/json`, 'form'],
    [`application/json; y=${FORM}`, 'json'],
    ['text/plain', 'form'],
    ['application/jsonx', 'json'],
    ['application/json-seq', 'json'],
    ['application/merge-patch+json', 'json'],
    ['text/plain; x=application/json', 'json'],
    ['application/json; charset=iso-8859-1', 'json'],
    ['application/x-www-form-urlencodedx', 'form'],
    ['multipart/form-data', 'form'],
    ['application/json garbage', 'json'],
    ['application/json; =x', 'json'],
    ['/json', 'json'],
  ] as const)('refuses "%s" with 415 before the limiter reads the body', async (type, encode) => {
    const e = envWith({ LOGIN_RATE_LIMIT: '1/minute' });
    const user = uniqueUser();
    for (let i = 0; i < 3; i++) {
      const res = await guess(e, '/auth/token', uniqueIp(), user, type, encode);
      expect(res.status).toBe(415);
      const body = await problem(res);
      expect(body.code).toBe('unsupported_media_type');
      expect(body.accepted).toEqual(expect.arrayContaining(['application/json', FORM]));
    }
    // None of those was counted as an attempt on the username: its bucket is still open.
    expect((await guess(e, '/auth/token', uniqueIp(), user, FORM)).status).toBe(401);
  });

  it('refuses a body without a Content-Type on a route that reads one (415), and JSON on a form-only route', async () => {
    const e = envWith({});
    const noType = await callWith(e, '/auth/token', {
      method: 'POST',
      headers: { 'CF-Connecting-IP': uniqueIp() },
      body: new TextEncoder().encode('username=a&password=b'),
    });
    expect(noType.status).toBe(415);
    const crawl = await callWith(e, '/md', {
      method: 'POST',
      headers: { 'CF-Connecting-IP': uniqueIp(), 'Content-Type': FORM },
      body: 'url=https://example.com',
    });
    expect(crawl.status).toBe(415);
    expect((await problem(crawl)).accepted).toEqual(['application/json']);
  });
});

describe('crawl concurrency leases follow the matched route', () => {
  it('POST /%6dd takes a lease: refused 429 while the only slot is held, like /md', async () => {
    const key = credentialFor({ id: `key_enc_${crypto.randomUUID().slice(0, 8)}`, permissions: ['crawl:run'], maxConcurrency: 1 });
    const rid = newRequestId('enc-lease');
    const open = await callAs(key, '/crawl/stream', { json: { urls: ['https://example.com/a'] }, headers: { 'X-Request-Id': rid } });
    expect(open.status).toBe(200);
    const reader = open.body!.getReader();
    await reader.read(); // the stream, and its lease, is open
    try {
      for (const path of ['/md', '/%6dd', '/%6D%64', '/crawl/%6Aob', '/%63rawl']) {
        const res = await callAs(key, path, { json: { url: 'https://example.com/x', urls: ['https://example.com/x'] } });
        expect(res.status, path).toBe(429);
        expect((await problem(res)).code, path).toBe('concurrency_limited');
      }
    } finally {
      await fetch(`${originUrl()}/__release?request_id=${encodeURIComponent(rid)}`);
      while (!(await reader.read()).done) {
        // drain: the lease is released when the body ends
      }
    }
  });

  it('an encoded /crawl/%73tream holds the lease it took until its stream ends', async () => {
    const key = credentialFor({ id: `key_enc2_${crypto.randomUUID().slice(0, 8)}`, permissions: ['crawl:run'], maxConcurrency: 1 });
    const rid = newRequestId('enc-stream');
    const open = await callAs(key, '/crawl/%73tream', { json: { urls: ['https://example.com/a'] }, headers: { 'X-Request-Id': rid } });
    expect(open.status).toBe(200);
    const reader = open.body!.getReader();
    await reader.read();
    const plain = await callAs(key, '/md', { json: { url: 'https://example.com/y' } });
    expect(plain.status).toBe(429);
    await fetch(`${originUrl()}/__release?request_id=${encodeURIComponent(rid)}`);
    while (!(await reader.read()).done) {
      // drain
    }
  });
});

describe('ambiguous path spellings', () => {
  it.each([
    ['/admin/users/a%2Fb', 'an encoded "/"'],
    ['/admin/users/a%2fb', 'an encoded "/"'],
    ['/crawl/job/x%5C..%5Cy', 'a "\\"'],
    ['/jobs/%00', 'control character'],
    ['/auth/token%0A', 'control character'],
  ])('%s → 400 ambiguous_path before anything else runs', async (path, why) => {
    const res = await callWith(envWith({}), path, {
      method: 'POST',
      headers: { 'CF-Connecting-IP': uniqueIp(), 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe('ambiguous_path');
    expect(body.detail).toContain(why);
  });

  it('dot segments, spelled plainly or encoded, are resolved by the URL parser before routing', async () => {
    const e = envWith({ LOGIN_RATE_LIMIT: '1/minute' });
    const ip = uniqueIp();
    expect((await guess(e, '/auth/token', ip, uniqueUser(), FORM)).status).toBe(401);
    for (const path of ['/auth/x/../token', '/auth/x/%2e%2e/token', '/x/%2E%2e/auth/./token', '/auth/%2e/token']) {
      const res = await guess(e, path, ip, uniqueUser(), FORM);
      expect(res.status, path).toBe(429);
    }
  });
});

describe('bad and deep JSON bodies', () => {
  it('answers 400 invalid_json for a malformed body and for duplicate keys (another parser would read them differently)', async () => {
    const key = credentialFor({ id: `key_json_${crypto.randomUUID().slice(0, 8)}`, permissions: ['crawl:run'] });
    const bad = await callAs(key, '/md', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"url":' });
    expect(bad.status).toBe(400);
    expect((await problem(bad)).code).toBe('invalid_json');
    const dup = await callAs(key, '/md', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"url":"https://example.com/a","url":"http://127.0.0.1/"}',
    });
    expect(dup.status).toBe(400);
    const body = await problem(dup);
    expect(body.code).toBe('invalid_json');
    expect(body.errors).toEqual([expect.objectContaining({ path: '$.url', reason: 'duplicate_key' })]);
  });

  it('answers an unauthenticated malformed body on a protected route with 401, not a parse error', async () => {
    const res = await callWith(envWith({}), '/md', {
      method: 'POST',
      headers: { 'CF-Connecting-IP': uniqueIp(), 'Content-Type': 'application/json' },
      body: '['.repeat(5000),
    });
    expect(res.status).toBe(401);
  });
});
