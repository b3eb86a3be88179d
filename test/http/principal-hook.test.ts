import { describe, expect, it } from 'vitest';
import { callAs, credentialFor } from '../helpers/principal';

describe('authorization through the real middleware', () => {
  const creds: Record<string, string> = {
    ops: credentialFor({ id: 'key_ops', permissions: ['metrics:read'] }),
    nobody: credentialFor({ id: 'key_nobody', permissions: ['crawl:run'] }),
  };
  const fetchAs = (who: string | null, path: string, init: RequestInit = {}) => callAs(who ? (creds[who] as string) : null, path, init);

  it('lets a principal with metrics:read read /metrics from any address', async () => {
    const res = await fetchAs('ops', '/metrics', { headers: { 'CF-Connecting-IP': '198.51.100.1' } });
    expect(res.status).toBe(200);
  });

  it('refuses one without it: 403 insufficient_scope naming the permission', async () => {
    const res = await fetchAs('nobody', '/metrics', { headers: { 'CF-Connecting-IP': '198.51.100.1' } });
    expect(res.status).toBe(403);
    const body = await res.json<{ code: string; detail: string; required: string[] }>();
    expect(body.code).toBe('insufficient_scope');
    expect(body.detail).toContain('metrics:read');
    expect(body.required).toEqual(['metrics:read']);
    expect(res.headers.get('WWW-Authenticate')).toContain('insufficient_scope');
  });

  it('treats an unknown credential as a 401 with the same body as any other', async () => {
    const res = await fetchAs(null, '/metrics', { headers: { Authorization: 'Bearer cgtest_ghost', 'CF-Connecting-IP': '198.51.100.1' } });
    expect(res.status).toBe(401);
    expect((await res.json<{ detail: string }>()).detail).toBe('Invalid credentials');
  });

  it('refuses a credential in the query string', async () => {
    const res = await fetchAs('ops', '/metrics?access_token=abc', { headers: { 'CF-Connecting-IP': '198.51.100.1' } });
    expect(res.status).toBe(400);
    expect((await res.json<{ code: string }>()).code).toBe('token_in_query');
  });

  it('refuses two different credentials', async () => {
    const res = await fetchAs('ops', '/metrics', { headers: { 'X-API-Key': creds.nobody as string, 'CF-Connecting-IP': '198.51.100.1' } });
    expect(res.status).toBe(400);
    expect((await res.json<{ code: string }>()).code).toBe('ambiguous_credentials');
  });
});
