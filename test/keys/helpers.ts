/**
 * Helpers for the API-key tests: an env with seed keys in API_KEYS (one of them the bootstrap
 * admin key), and `send()` that runs the real app against real local D1/KV with that env,
 * waiting for its background work (cache fills, audit) before returning.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { BASE } from '../helpers/test-vars';

/** Test-only seed keys (random-looking, protect nothing). */
export const ADMIN_KEY = 'sk-admin-4Jq9VxTz2LmR8pWc6NbY3HdK7sGf1AeU';
export const READER_KEY = 'sk-read-8Pz2KcW5nQ1vXm7RbT4yLd9HsJ3gFa6E';
export const SEED_CRAWL_KEY = 'sk-prod-Zt5Hw2Qm8Kx1Vc7Nb4Rp9Lj3Ys6Df0Ga';

export const SEED_API_KEYS = JSON.stringify({
  admin: { key: ADMIN_KEY, name: 'Bootstrap admin', scopes: ['keys:manage', 'keys:read'] },
  reader: { key: READER_KEY, name: 'Key reader', scopes: ['keys:read'] },
  key1: { key: SEED_CRAWL_KEY, name: 'Production API Key', rate_limit: '1000/minute', scopes: ['crawl', 'screenshot', 'pdf'] },
});

/** The env every key test uses: the real bindings plus API_KEYS (config is parsed once per env object). */
export const keysEnv = { ...(env as unknown as Env), API_KEYS: SEED_API_KEYS } as Env;

export interface SendOptions {
  method?: string;
  json?: unknown;
  key?: string;
  headers?: Record<string, string>;
  env?: Env;
}

export async function send(path: string, o: SendOptions = {}): Promise<Response> {
  const headers = new Headers(o.headers);
  if (o.key !== undefined) headers.set('Authorization', `Bearer ${o.key}`);
  let body: string | undefined;
  if (o.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(o.json);
  }
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(BASE + path, { method: o.method ?? (body ? 'POST' : 'GET'), headers, body }),
    o.env ?? keysEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

export interface IssuedKeyBody {
  id: string;
  key: string;
  name: string;
  prefix: string;
  scopes: string[];
  status: string;
  rate_limit: string | null;
  expires_at: string | null;
  grace_until: string | null;
  rotated_from: string | null;
  rotated_to: string | null;
  old_key?: { id: string; status: string; grace_until: string | null };
  [k: string]: unknown;
}

/** Creates a key through the admin API as the bootstrap admin. */
export async function createKey(body: Record<string, unknown> = {}): Promise<IssuedKeyBody> {
  const res = await send('/admin/keys', { key: ADMIN_KEY, json: { name: 'test key', scopes: ['crawl:run'], ...body } });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** POST /auth/api-key/validate with the key, via Bearer or X-API-Key. */
export function validate(key: string, via: 'bearer' | 'x-api-key' = 'bearer', e?: Env): Promise<Response> {
  return send('/auth/api-key/validate', {
    method: 'POST',
    ...(via === 'bearer' ? { key } : { headers: { 'X-API-Key': key } }),
    ...(e ? { env: e } : {}),
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
