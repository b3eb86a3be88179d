/**
 * `wrangler dev` for the node-project end-to-end tests, as a user runs it: migrations applied to a
 * fresh local D1, the Worker started on a free loopback port with the given vars, stopped with its
 * whole process group (wrangler's workerd children would outlive the run otherwise).
 * Node only (spawns processes); not for the workers project.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/** No Cloudflare calls from wrangler here (no internet), no metrics. */
export const WRANGLER_ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: 'true' };

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface DevServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Everything wrangler printed so far (for failure messages). */
  output(): string;
  stop(): void;
}

export interface DevServerOptions {
  /** `--var` values (strings). */
  vars: Record<string, string>;
  /** Prefix of the temporary `--persist-to` folder. */
  persistPrefix?: string;
  /** How long to wait for "Ready on" (ms). Default 90 s. */
  readyTimeoutMs?: number;
}

/** Applies the migrations to a fresh local state and starts `wrangler dev` on it; resolves when it is ready. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const persist = mkdtempSync(path.join(tmpdir(), options.persistPrefix ?? 'cg-dev-'));
  const migrate = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], {
    cwd: ROOT,
    env: WRANGLER_ENV,
    encoding: 'utf8',
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stderr}`);
  const port = await freePort();
  const vars = Object.entries(options.vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const child = spawn('npx', ['wrangler', 'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist, ...vars], {
    cwd: ROOT,
    env: WRANGLER_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const stop = () => {
    if (!child.pid) return;
    try {
      process.kill(-child.pid, 'SIGTERM'); // the process group: wrangler's workerd children too
    } catch {
      // already gone
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`wrangler dev did not start:\n${output}`)), options.readyTimeoutMs ?? 90_000);
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
  } catch (err) {
    stop();
    throw err;
  }
  return { port, base: `http://127.0.0.1:${port}`, output: () => output, stop };
}
