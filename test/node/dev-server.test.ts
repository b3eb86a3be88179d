/**
 * End to end through `wrangler dev`, as a user runs it: migrations applied to a fresh local D1,
 * the Worker started on a free port, then real HTTP requests. Also validates the OpenAPI document
 * with a JSON-schema validator (which cannot run inside workerd: it compiles code at run time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { TEST_VARS } from '../helpers/test-vars';
import { startDevServer, type DevServer } from '../helpers/wrangler-dev';

let server: DevServer | undefined;
const OPS_KEY = 'sk-e2e-ops-7Hq2Lm9Xv4Rt8Bn3Kc6Wz1Pd5';
let base = '';

beforeAll(async () => {
  const apiKeys = JSON.stringify({ ops: { key: OPS_KEY, name: 'ops', rate_limit: '100/minute', scopes: ['metrics:read'] } });
  server = await startDevServer({
    vars: { ...TEST_VARS, ENVIRONMENT: 'development', TRUSTED_HOSTS: '', API_KEYS: apiKeys },
    persistPrefix: 'cg-dev-',
    readyTimeoutMs: 90_000,
  });
  base = server.base;
});

afterAll(() => {
  server?.stop();
});

describe('wrangler dev', () => {
  it('serves /health with security headers', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('serves an OpenAPI 3.1 document that passes schema validation', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as Record<string, unknown>;
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('guards deep health behind credentials', async () => {
    const res = await fetch(`${base}/health?deep=1`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('reaches the migrated local D1 and KV in deep health', async () => {
    const res = await fetch(`${base}/health?deep=1`, { headers: { 'X-API-Key': OPS_KEY } });
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.checks.d1?.ok).toBe(true);
    expect(body.checks.kv?.ok).toBe(true);
  });
});
