/**
 * Jobs count a robots.txt refusal as a final outcome (one attempt, never retried, the page never
 * requested); the Web Bot Auth key directory is served, signed, and parses; without keys nothing
 * is signed and the directory is a 404.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { verify as verifyWba } from 'web-bot-auth';
import { verifierFromJWK } from 'web-bot-auth/crypto';
import { callAs } from '../helpers/principal';
import { finished, recordedRows, submit, waitFor } from '../jobs/helpers';
import { crawl, crawler, directoryKeys, edgeVars, hostLog, hostUrl, HOSTS, setupHost } from './helpers';
import { botAuthHeaders } from '../../src/polite/bot-auth';
import { parseBotAuthKeys } from '../../src/polite/bot-auth-keys';
import { TEST_VARS } from '../helpers/test-vars';

describe('jobs and robots.txt', () => {
  it('records a disallowed page as failed with robots_disallowed after one attempt, and never fetches it', async () => {
    const h = HOSTS.jobs;
    await setupHost(h, { robots: { status: 200, body: 'User-agent: *\nDisallow: /private\n' }, jwks: await directoryKeys() });
    const who = crawler('jobs-robots');
    const id = await submit(who, { urls: [hostUrl(h, '/private/j1'), hostUrl(h, '/public/j1')], engine: 'fetch' });
    const snap = await waitFor(who, id, finished, 30_000);
    expect(snap.status).toBe('completed');
    const rows = await recordedRows(id);
    const refused = rows.find((r) => r.url.endsWith('/private/j1'))!;
    expect(refused).toMatchObject({ success: 0, attempts: 1 });
    expect(refused.error).toMatch(/disallowed by robots\.txt/);
    expect(rows.find((r) => r.url.endsWith('/public/j1'))).toMatchObject({ success: 1, attempts: 1 });
    const log = await hostLog(h);
    expect(log.arrivals.map((a) => a.path)).not.toContain('/private/j1');
    // Job pages are signed too.
    expect(log.arrivals.find((a) => a.path === '/public/j1')?.signature_valid).toBe(true);
  });
});

describe('GET /.well-known/http-message-signatures-directory', () => {
  it('serves the public keys as a signed JWK Set with the directory media type', async () => {
    const res = await callAs(null, '/.well-known/http-message-signatures-directory');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/http-message-signatures-directory+json');
    const body = await res.json<{ keys: Array<Record<string, string>> }>();
    const configured = parseBotAuthKeys(TEST_VARS.WEB_BOT_AUTH_KEYS) as Array<{ x: string }>;
    expect(body.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: configured[0]!.x }]);
    expect(JSON.stringify(body)).not.toContain('"d"');
    expect(res.headers.get('Signature-Input')).toMatch(/tag="http-message-signatures-directory"/);
    expect(res.headers.get('Signature')).toMatch(/^binding0=:/);
  });

  it('is a 404 when no key is configured, and requests then go out unsigned', async () => {
    const res = await callAs(null, '/.well-known/http-message-signatures-directory', { vars: { WEB_BOT_AUTH_KEYS: '' } });
    expect(res.status).toBe(404);
    const h = HOSTS.units;
    await setupHost(h, { robots: { status: 404 } });
    await crawl(crawler('unsigned'), [hostUrl(h, '/page/unsigned')], edgeVars({ WEB_BOT_AUTH_KEYS: '', HOST_MIN_DELAY_MS: '0' }));
    const page = (await hostLog(h)).arrivals.find((a) => a.path === '/page/unsigned')!;
    expect(page.signature_valid).toBeNull();
    expect(page.user_agent).toMatch(/crawlgate/);
  });
});

describe('request signatures (web-bot-auth verify, cross-checked)', () => {
  it('verify with the published key and fail when a signed component is altered', async () => {
    const keys = parseBotAuthKeys(TEST_VARS.WEB_BOT_AUTH_KEYS);
    if (typeof keys === 'string') throw new Error(keys);
    const url = 'https://target.example/page?x=1';
    const headers = await botAuthHeaders(url, 'GET', { keys, agentUrl: 'https://crawlgate.test/anything' });
    expect(headers['Signature-Agent']).toBe('"https://crawlgate.test"');
    expect(headers['Signature-Input']).toMatch(
      /^sig1=\("@authority" "signature-agent"\);created=\d+;keyid="[A-Za-z0-9_-]{43}";alg="ed25519";expires=\d+;nonce="[^"]+";tag="web-bot-auth"$/,
    );
    const [published] = await directoryKeys();
    const verifier = await verifierFromJWK(published as JsonWebKey);
    await expect(verifyWba(new Request(url, { headers }), verifier)).resolves.toBeUndefined();
    await expect(verifyWba(new Request('https://other.example/page?x=1', { headers }), verifier)).rejects.toThrow();
    await expect(
      verifyWba(new Request(url, { headers: { ...headers, 'Signature-Agent': '"https://evil.example"' } }), verifier),
    ).rejects.toThrow();
  });

  it('the test env really has a key (the fixtures above would otherwise see unsigned requests)', () => {
    expect((env as unknown as { WEB_BOT_AUTH_KEYS: string }).WEB_BOT_AUTH_KEYS).toContain('Ed25519');
  });
});
