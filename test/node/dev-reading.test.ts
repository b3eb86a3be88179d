/**
 * Issue #26 through `wrangler dev`, as the attacker tried it: login guesses on encoded spellings of
 * /auth/token and with a Content-Type whose parameter names another type, from distinct
 * `CF-Connecting-IP` addresses, land in the same per-IP and per-username buckets as the plain
 * request (429 where it gets 429). Raw HTTP (node:net) is used for the spellings, so no client
 * library normalises the request line before workerd reads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { TEST_VARS } from '../helpers/test-vars';
import { startDevServer, type DevServer } from '../helpers/wrangler-dev';

let server: DevServer | undefined;
let port = 0;

beforeAll(async () => {
  server = await startDevServer({
    vars: { ...TEST_VARS, ENVIRONMENT: 'development', TRUSTED_HOSTS: '', LOGIN_RATE_LIMIT: '2/minute' },
    persistPrefix: 'cg-reading-',
    readyTimeoutMs: 90_000,
  });
  port = server.port;
});

afterAll(() => {
  server?.stop();
});

/** Sends one HTTP/1.1 request with the request target exactly as given; resolves to status + body. */
function raw(method: string, target: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (data += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const split = data.indexOf('\r\n\r\n');
      const head = data.slice(0, split);
      let payload = data.slice(split + 4);
      if (/^transfer-encoding:\s*chunked/im.test(head)) {
        let out = '';
        for (;;) {
          const eol = payload.indexOf('\r\n');
          const size = parseInt(payload.slice(0, eol), 16);
          if (!size) break;
          out += payload.slice(eol + 2, eol + 2 + size);
          payload = payload.slice(eol + 2 + size + 2);
        }
        payload = out;
      }
      resolve({ status, body: payload });
    });
    const lines = [
      `${method} ${target} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Connection: close',
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

let ipCounter = 0;
const nextIp = () => `203.0.113.${++ipCounter}`;
const FORM = 'application/x-www-form-urlencoded';
const guess = (target: string, ip: string, username: string, contentType = FORM) =>
  raw(
    'POST',
    target,
    { 'CF-Connecting-IP': ip, 'Content-Type': contentType },
    new URLSearchParams({ grant_type: 'password', username, password: 'wrong-password' }).toString(),
  );

describe('wrangler dev: one reading of the login request', () => {
  it('encoded and dot-segment spellings of /auth/token share the per-IP login bucket', async () => {
    const ip = nextIp();
    expect((await guess('/auth/token', ip, 'u-a')).status).toBe(401);
    expect((await guess('/auth/token', ip, 'u-b')).status).toBe(401);
    for (const target of ['/auth/%74oken', '/%61uth/token', '/auth/x/../token', '/auth/%2e%2e/auth/token', '/auth/./%74oken']) {
      const res = await guess(target, ip, `u-${target.length}`);
      expect(res.status, target).toBe(429);
      expect(JSON.parse(res.body).policy, target).toBe('login-ip');
    }
  });

  it('spellings from distinct addresses share the per-username bucket', async () => {
    const user = `victim-${Date.now()}`;
    expect((await guess('/auth/%74oken', nextIp(), user)).status).toBe(401);
    expect((await guess('/auth/token', nextIp(), user)).status).toBe(401);
    for (const target of ['/auth/token', '/auth/%74oken', '/%61%75%74%68/%74%6f%6b%65%6e']) {
      const res = await guess(target, nextIp(), user);
      expect(res.status, target).toBe(429);
      expect(JSON.parse(res.body).policy, target).toBe('login-user');
    }
  });

  it('a media-type parameter naming JSON neither changes the username read nor escapes the bucket', async () => {
    const user = `victim-mt-${Date.now()}`;
    expect((await guess('/auth/token', nextIp(), user)).status).toBe(401);
    expect((await guess('/auth/token', nextIp(), user, `${FORM}; note="application/json"`)).status).toBe(401);
    const quoted = await guess('/auth/token', nextIp(), user, `${FORM}; note="application/json"`);
    expect(quoted.status).toBe(429);
    expect(JSON.parse(quoted.body).policy).toBe('login-user');
    // The spelling is not a media type (RFC 9110: "/" needs quoting): 415, before any limiter.
    const unquoted = await guess('/auth/token', nextIp(), `other-${user}`, `${FORM}; x=application/json`);
    expect(unquoted.status).toBe(415);
  });

  it('refuses an encoded "/" with 400 ambiguous_path', async () => {
    const res = await guess('/auth%2Ftoken', nextIp(), 'u-slash');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ambiguous_path');
  });
});
