/**
 * End to end through `wrangler dev`, as a user runs it: migrations applied to a fresh local D1,
 * the Worker started on a free port, then real HTTP requests. Also validates the OpenAPI document
 * with a JSON-schema validator (which cannot run inside workerd: it compiles code at run time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { TEST_VARS } from '../helpers/test-vars';

const root = path.resolve(import.meta.dirname, '../..');
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: 'true' };
let child: ChildProcess;
const OPS_KEY = 'sk-e2e-ops-7Hq2Lm9Xv4Rt8Bn3Kc6Wz1Pd5';
let base = '';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const persist = mkdtempSync(path.join(tmpdir(), 'cg-dev-'));
  const migrate = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], { cwd: root, env, encoding: 'utf8' });
  expect(migrate.status, migrate.stderr).toBe(0);
  const port = await freePort();
  const apiKeys = JSON.stringify({ ops: { key: OPS_KEY, name: 'ops', rate_limit: '100/minute', scopes: ['metrics:read'] } });
  const vars = Object.entries({ ...TEST_VARS, ENVIRONMENT: 'development', TRUSTED_HOSTS: '', API_KEYS: apiKeys }).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  child = spawn('npx', ['wrangler', 'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist, ...vars], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev did not start:\n${output}`)), 90_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (/Ready on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`wrangler dev exited ${code}:\n${output}`)));
  });
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  // wrangler dev runs workerd children: stop the whole process group, or they outlive the test run.
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
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
