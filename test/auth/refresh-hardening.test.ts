/**
 * Refresh tokens the gateway did not issue create no storage (issue 17), and concurrent refreshes
 * from one session inside the grace window are not treated as theft (issue 26, RFC 9700 §4.14.2).
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { call, problem } from '../helpers/http';
import { bearer, createUser, loginPair, testConfig, type TokenPairBody } from '../helpers/auth';
import { waitForAuditRows } from '../helpers/audit';
import { callWith, envWith } from '../helpers/app-env';
import type { Env } from '../../src/env';
import { familyStub } from '../../src/auth/refresh-family-do';
import { newFamilyId, newRefreshToken, parseRefreshToken, refreshTagKeys } from '../../src/auth/jwt/refresh-token';

const e = env as unknown as Env;
const refresh = (token: string, requestId?: string) =>
  call('/auth/refresh', { method: 'POST', json: { refresh_token: token }, headers: requestId ? { 'X-Request-Id': requestId } : {} });
const b64 = (n: number) =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

async function familyObjects(): Promise<string[]> {
  return (await listDurableObjectIds(e.REFRESH_FAMILIES)).map((id) => id.toString()).sort();
}

describe('forged refresh tokens', () => {
  it('are refused before any Durable Object is addressed: no new object, no storage, one generic 401', async () => {
    const user = await createUser();
    const real = await loginPair(user.username, user.password);
    const realFamily = real.refresh_token.split('.')[1] as string;
    const forged = [
      `cgrt.${newFamilyId()}.${b64(16)}.${b64(32)}`, // well-formed, made-up tag
      `cgrt.${realFamily}.${b64(16)}.${b64(32)}`, // a real family id with a made-up tag
      `cgrt.${newFamilyId()}.${b64(32)}`, // the earlier three-part format
      // tagged with another deployment's secret
      (
        await newRefreshToken(
          await refreshTagKeys({ JWT_SECRET_KEY: 'another-deployment-secret-8c1f3a9e5b7d2f4a', JWT_PREVIOUS_SECRET_KEYS: [] }),
          newFamilyId(),
        )
      ).token,
    ];
    const before = await familyObjects();
    for (const token of forged) {
      const res = await refresh(token);
      expect(res.status).toBe(401);
      expect((await problem(res)).code).toBe('invalid_token');
    }
    expect(await familyObjects()).toEqual(before);
    // The real family was not disturbed by the forgery that named it.
    expect((await refresh(real.refresh_token)).status).toBe(200);
  });

  it('the family object writes nothing for a family that was never started (defence in depth)', async () => {
    const stub = familyStub(e, newFamilyId());
    expect(await stub.rotate({ presentedHash: 'x', nextHash: 'y', now: Date.now(), graceMs: 10_000 })).toEqual({
      ok: false,
      reason: 'unknown_family',
    });
    expect(await stub.state()).toBeNull();
    expect(await stub.revoke({ reason: 'logout', now: Date.now() })).toBeNull();
    const tables = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
        .toArray()
        .map((r) => r.name),
    );
    expect(tables).toEqual([]);
  });

  it('a tag made under a previous JWT secret still verifies after a rotation to a new one', async () => {
    const config = testConfig();
    const familyId = newFamilyId();
    const { token } = await newRefreshToken(await refreshTagKeys(config), familyId);
    const rotated = { JWT_SECRET_KEY: 'a-brand-new-jwt-secret-7e2c9f4b1a8d3e6c5f0b', JWT_PREVIOUS_SECRET_KEYS: [config.JWT_SECRET_KEY] };
    expect((await parseRefreshToken(await refreshTagKeys(rotated), token))?.familyId).toBe(familyId);
    expect(await parseRefreshToken(await refreshTagKeys({ ...rotated, JWT_PREVIOUS_SECRET_KEYS: [] }), token)).toBeNull();
  });
});

describe('concurrent refreshes inside the grace window', () => {
  it('two tabs refreshing with one token both get a working pair; the family lives on', async () => {
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    const [a, b] = await Promise.all([refresh(pair.refresh_token), refresh(pair.refresh_token)]);
    expect([a?.status, b?.status]).toEqual([200, 200]);
    const pa = await (a as Response).json<TokenPairBody>();
    const pb = await (b as Response).json<TokenPairBody>();
    expect(pa.refresh_token).not.toBe(pb.refresh_token);
    for (const p of [pa, pb]) expect((await call('/auth/me', { headers: bearer(p.access_token) })).status).toBe(200);
    // Whichever cookie the browser kept works next; the other is then superseded like any spent token.
    const next = await refresh(pb.refresh_token);
    expect(next.status).toBe(200);
    expect((await call('/auth/me', { headers: bearer((await next.json<TokenPairBody>()).access_token) })).status).toBe(200);
  });

  it("a burst beyond the window's allowance is treated as reuse and revokes the family", async () => {
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    const first = await refresh(pair.refresh_token); // rotation
    expect(first.status).toBe(200);
    const replays = [];
    for (let i = 0; i < 5; i++) replays.push((await refresh(pair.refresh_token)).status);
    expect(replays).toEqual([200, 200, 200, 200, 401]); // MAX_GRACE_SIBLINGS = 4
    expect((await refresh((await first.json<TokenPairBody>()).refresh_token)).status).toBe(401);
  });

  it('re-presenting a spent token after the window is still reuse: family revoked, audit row written', async () => {
    const short = envWith({ REFRESH_REUSE_GRACE_SECONDS: '1' });
    const post = (token: string, rid?: string) =>
      callWith(short, '/auth/refresh', {
        method: 'POST',
        body: JSON.stringify({ refresh_token: token }),
        headers: { 'Content-Type': 'application/json', ...(rid ? { 'X-Request-Id': rid } : {}) },
      });
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    const next = await (await post(pair.refresh_token)).json<TokenPairBody>();
    await new Promise((r) => setTimeout(r, 1_100));
    const rid = `late-reuse-${crypto.randomUUID()}`;
    expect((await post(pair.refresh_token, rid)).status).toBe(401);
    expect((await post(next.refresh_token)).status).toBe(401);
    expect((await waitForAuditRows(rid)).map((r) => r.action)).toContain('refresh_reuse_detected');
  });
});
