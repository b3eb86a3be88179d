/** OAuth 2.1 for MCP clients: discovery documents, token audience, grants and their revocation rules. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor } from '../helpers/principal';
import { insertGrant, listGrants, newGrantId } from '../../src/oauth/grants';
import { isOAuthToken } from '../../src/oauth/verify';

const db = (env as unknown as { DB: D1Database }).DB;

async function seedUser(id: string, roles: string[], disabled = 0): Promise<void> {
  await db
    .prepare(
      "INSERT OR REPLACE INTO users (id, username, password_hash, roles, disabled, password_changed_at, tokens_valid_after, created_at, updated_at) VALUES (?1, ?1, '!', ?2, ?3, 0, 0, 0, 0)",
    )
    .bind(id, JSON.stringify(roles), disabled)
    .run();
}

describe('OAuth discovery', () => {
  it('publishes protected resource metadata for /mcp (RFC 9728) at both well-known paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await callAs(null, path);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        resource: 'https://crawlgate.test/mcp',
        authorization_servers: ['https://crawlgate.test'],
        scopes_supported: ['crawl:run'],
        bearer_methods_supported: ['header'],
      });
    }
  });

  it('publishes authorization server metadata (RFC 8414) with DCR, PKCE S256 and the grantable scopes only', async () => {
    const res = await callAs(null, '/.well-known/oauth-authorization-server', { headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    const meta = await res.json<Record<string, unknown>>();
    expect(meta).toMatchObject({
      issuer: 'https://crawlgate.test',
      authorization_endpoint: 'https://crawlgate.test/oauth/authorize',
      token_endpoint: 'https://crawlgate.test/oauth/token',
      registration_endpoint: 'https://crawlgate.test/oauth/register',
      code_challenge_methods_supported: ['S256'],
    });
    expect(meta.scopes_supported).toContain('crawl:run');
    expect(meta.scopes_supported).not.toContain('keys:manage');
    expect(meta.scopes_supported).not.toContain('users:manage');
    // The provider's reflected CORS never reaches a look-alike origin (the gateway's exact-match CORS decides).
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('registers a public client (RFC 7591) and refuses a redirect URI that is neither https nor loopback', async () => {
    const ok = await callAs(null, '/oauth/register', {
      json: { client_name: 'unit', redirect_uris: ['http://127.0.0.1:3000/cb'], token_endpoint_auth_method: 'none' },
    });
    expect(ok.status).toBe(201);
    expect((await ok.json<{ client_id: string }>()).client_id).toBeTruthy();
    const bad = await callAs(null, '/oauth/register', {
      json: { client_name: 'evil', redirect_uris: ['http://evil.example/cb'], token_endpoint_auth_method: 'none' },
    });
    expect(bad.status).toBe(400);
  });
});

describe('OAuth access tokens', () => {
  it("recognises the provider's token shape only", () => {
    expect(isOAuthToken('usr_abc:grant1:secretpart')).toBe(true);
    expect(isOAuthToken('cg_live_abc')).toBe(false);
    expect(isOAuthToken('a.b.c')).toBe(false);
  });

  it('refuses an unknown OAuth token at /mcp (401 with the resource metadata) and anywhere else (401)', async () => {
    const fake = 'usr_nobody:gr_x:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const mcp = await callAs(fake, '/mcp', {
      json: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      headers: { Accept: 'application/json, text/event-stream' },
    });
    expect(mcp.status).toBe(401);
    expect(mcp.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
    expect(mcp.headers.get('WWW-Authenticate')).toContain(
      'resource_metadata="https://crawlgate.test/.well-known/oauth-protected-resource/mcp"',
    );
    const md = await callAs(fake, '/md', { json: { url: 'https://example.com/' } });
    expect(md.status).toBe(401);
  });
});

describe('/grants and /admin/grants', () => {
  it("lists only the caller's grants; another user's grant reads as unknown (404); admins see and revoke any", async () => {
    const alice = `usr_grant_alice_${crypto.randomUUID().slice(0, 8)}`;
    const bob = `usr_grant_bob_${crypto.randomUUID().slice(0, 8)}`;
    await seedUser(alice, ['user']);
    await seedUser(bob, ['user']);
    const gA = newGrantId();
    const gB = newGrantId();
    await insertGrant(
      db,
      { id: gA, userId: alice, clientId: 'client-a', clientName: '<script>x</script>', redirectHost: '127.0.0.1', scopes: ['crawl:run'] },
      Date.now(),
    );
    await insertGrant(
      db,
      { id: gB, userId: bob, clientId: 'client-b', clientName: 'B', redirectHost: '127.0.0.1', scopes: ['crawl:run', 'jobs:read'] },
      Date.now(),
    );
    const aliceCred = credentialFor({ id: alice, kind: 'user', roles: ['user'], permissions: ['crawl:run', 'keys:self'] });
    const admin = credentialFor({ id: 'usr_grant_admin', kind: 'user', roles: ['admin'], permissions: ['users:manage'] });

    const mine = await (await callAs(aliceCred, '/grants')).json<{ items: Array<{ id: string; client_name: string }> }>();
    expect(mine.items.map((g) => g.id)).toEqual([gA]);
    expect(mine.items[0]?.client_name).toBe('<script>x</script>'); // stored as data
    expect((await callAs(aliceCred, `/grants/${gB}`, { method: 'DELETE' })).status).toBe(404);
    expect((await callAs(aliceCred, '/admin/grants')).status).toBe(403);

    const all = await (await callAs(admin, `/admin/grants?user_id=${bob}`)).json<{ items: Array<{ id: string }> }>();
    expect(all.items.map((g) => g.id)).toEqual([gB]);
    const revoked = await callAs(admin, `/admin/grants/${gB}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ id: gB, revoked_reason: 'revoked' });
    const again = await callAs(admin, `/admin/grants/${gB}`, { method: 'DELETE' });
    expect(again.status).toBe(200); // idempotent
  });

  it("marks a user's earlier grant to the same client replaced when a new one is given", async () => {
    const carol = `usr_grant_carol_${crypto.randomUUID().slice(0, 8)}`;
    await seedUser(carol, ['user']);
    const first = newGrantId();
    const second = newGrantId();
    await insertGrant(db, { id: first, userId: carol, clientId: 'same', clientName: 'C', redirectHost: 'h', scopes: ['crawl:run'] }, 1000);
    await insertGrant(db, { id: second, userId: carol, clientId: 'same', clientName: 'C', redirectHost: 'h', scopes: ['crawl:run'] }, 2000);
    const page = await listGrants(db, { userId: carol, limit: 10 });
    expect(page.items.map((g) => [g.id, g.revoked_reason])).toEqual([
      [second, null],
      [first, 'replaced'],
    ]);
  });
});
