/** Calls the app with a modified env (config is parsed per env object), through the real bindings. */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { BASE } from './test-vars';

export function envWith(overrides: Record<string, string | undefined>): Env {
  const out = { ...(env as unknown as Env) } as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out as unknown as Env;
}

export async function callWith(e: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(path.startsWith('http') ? path : BASE + path, { redirect: 'manual', ...init }), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
