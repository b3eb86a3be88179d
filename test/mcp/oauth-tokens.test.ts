/**
 * OAuth access tokens at /mcp, with real tokens from the provider (authorization code + PKCE at
 * /oauth/token): the principal holds granted scopes ∩ the user's current permissions, and a
 * revoked grant, a disabled user or a deleted user is refused at the next request.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { callAs, originSaw, newRequestId } from '../helpers/principal';
import { loadConfig, type Config } from '../../src/config';
import { oauthApi } from '../../src/oauth/server';
import { getGrant, insertGrant, newGrantId, revokeGrant } from '../../src/oauth/grants';
import type { Env } from '../../src/env';

const testEnv = env as unknown as Env;
const db = testEnv.DB;
const ORIGIN = 'https://crawlgate.test';
const REDIRECT = 'http://127.0.0.1:3000/cb';
const MCP = { Accept: 'application/json, text/event-stream' };

function config(): Config {
  const r = loadConfig(testEnv);
  if (!r.ok) throw new Error('bad test config');
  return r.config;
}

const b64url = (b: Uint8Array) =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** A user with `roles`, a grant of `scopes` to a fresh public client, and an access token for it. */
async function tokenFor(roles: string[], scopes: string[]): Promise<{ userId: string; grantId: string; token: string }> {
  const userId = `usr_oauth_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await db
    .prepare(
      "INSERT INTO users (id, username, password_hash, roles, disabled, password_changed_at, tokens_valid_after, created_at, updated_at) VALUES (?1, ?1, '!', ?2, 0, 0, 0, 0, 0)",
    )
    .bind(userId, JSON.stringify(roles))
    .run();
  const api = oauthApi(ORIGIN, config(), testEnv);
  const client = await api.createClient({ redirectUris: [REDIRECT], clientName: 'unit', tokenEndpointAuthMethod: 'none' });
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 's',
    scope: scopes.join(' '),
    resource: `${ORIGIN}/mcp`,
  });
  const request = await api.parseAuthRequest(new Request(`${ORIGIN}/oauth/authorize?${q}`));
  const grantId = newGrantId();
  await insertGrant(
    db,
    { id: grantId, userId, clientId: client.clientId, clientName: 'unit', redirectHost: '127.0.0.1', scopes: scopes as never },
    Date.now(),
  );
  const { redirectTo } = await api.completeAuthorization({
    request,
    userId,
    scope: scopes,
    props: { grant: grantId },
    metadata: { grant: grantId },
  });
  const code = new URL(redirectTo).searchParams.get('code')!;
  const res = await callAs(null, '/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: client.clientId,
      code_verifier: verifier,
    }).toString(),
  });
  expect(res.status).toBe(200);
  const body = await res.json<{ access_token: string; scope: string }>();
  return { userId, grantId, token: body.access_token };
}

async function mcp(token: string, body: unknown, session?: string, rid?: string) {
  return callAs(token, '/mcp', {
    json: body,
    headers: { ...MCP, ...(session ? { 'Mcp-Session-Id': session } : {}), ...(rid ? { 'X-Request-Id': rid } : {}) },
  });
}

async function session(token: string): Promise<string> {
  const res = await mcp(token, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  expect(res.status).toBe(200);
  return res.headers.get('Mcp-Session-Id')!;
}

async function md(token: string, sid: string) {
  const rid = newRequestId('oauthmd');
  const res = await mcp(
    token,
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'md', arguments: { url: 'https://example.com/' } } },
    sid,
    rid,
  );
  return { res, rid };
}

describe('OAuth access tokens at /mcp', () => {
  it('acts as the user with the granted scopes only, and only at /mcp', async () => {
    const { token } = await tokenFor(['user'], ['crawl:run']);
    const sid = await session(token);
    const ok = await md(token, sid);
    expect((await ok.res.json<{ result: { isError?: boolean } }>()).result.isError).toBeUndefined();
    expect((await originSaw(`${ok.rid}.t1`))?.path).toBe('/md');
    const shot = await mcp(
      token,
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'screenshot', arguments: { url: 'https://example.com/' } } },
      sid,
    );
    expect((await shot.json<{ result: { structuredContent: unknown } }>()).result.structuredContent).toMatchObject({
      code: 'insufficient_scope',
      required: ['crawl:screenshot'],
    });
    // The token's audience is /mcp: the HTTP routes refuse it.
    expect((await callAs(token, '/md', { json: { url: 'https://example.com/' } })).status).toBe(401);
  });

  it("narrows to the user's current permissions: a user demoted to viewer loses crawl:run at once", async () => {
    const { token, userId } = await tokenFor(['user'], ['crawl:run']);
    const sid = await session(token);
    await db.prepare('UPDATE users SET roles = ?1 WHERE id = ?2').bind('["viewer"]', userId).run();
    const { res, rid } = await md(token, sid);
    expect((await res.json<{ result: { structuredContent: unknown } }>()).result.structuredContent).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
    });
    expect(await originSaw(`${rid}.t1`)).toBeNull();
  });

  it('stops at the next request when the grant is revoked, the user disabled or the user deleted', async () => {
    const revoked = await tokenFor(['user'], ['crawl:run']);
    const sid = await session(revoked.token);
    await revokeGrant(testEnv, config(), ORIGIN, (await getGrant(db, revoked.grantId))!, Date.now());
    const r1 = await md(revoked.token, sid);
    expect(r1.res.status).toBe(401);
    expect(await originSaw(`${r1.rid}.t1`)).toBeNull();

    const disabled = await tokenFor(['user'], ['crawl:run']);
    const sid2 = await session(disabled.token);
    await db.prepare('UPDATE users SET disabled = 1 WHERE id = ?1').bind(disabled.userId).run();
    const r2 = await md(disabled.token, sid2);
    expect(r2.res.status).toBe(401);
    expect(r2.res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');

    const deleted = await tokenFor(['user'], ['crawl:run']);
    const sid3 = await session(deleted.token);
    await db.prepare('DELETE FROM users WHERE id = ?1').bind(deleted.userId).run();
    expect((await md(deleted.token, sid3)).res.status).toBe(401);
  });

  it('refuses a grant given before a password change (tokens_valid_after)', async () => {
    const { token, userId } = await tokenFor(['user'], ['crawl:run']);
    await db
      .prepare('UPDATE users SET tokens_valid_after = ?1 WHERE id = ?2')
      .bind(Date.now() + 1000, userId)
      .run();
    const res = await mcp(token, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect(res.status).toBe(401);
  });
});
