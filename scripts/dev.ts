/**
 * `npm run dev [-- wrangler dev args]` — one command from a fresh clone to a running gateway:
 *   1. `.dev.vars` with fresh secrets (and a printed admin login + bootstrap key) if missing;
 *   2. Debian's Chromium behind miniflare's Chrome path, for the browser engine (if the setup script exists);
 *   3. local D1 migrations;
 *   4. `wrangler dev` on localhost (default port 8787), arguments passed through.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' };

function run(cmd: string, args: string[], extraEnv: Record<string, string> = {}): number {
  const res = spawnSync(cmd, args, { stdio: 'inherit', env: { ...env, ...extraEnv } });
  return res.status ?? 1;
}

if (!existsSync('.dev.vars')) {
  console.log('No .dev.vars yet: generating local secrets (kept in .dev.vars, git-ignored).');
  if (run('npx', ['tsx', 'scripts/secrets.ts', '--bootstrap-key']) !== 0) process.exit(1);
}

if (existsSync('scripts/setup-chromium.mjs')) {
  if (run('node', ['scripts/setup-chromium.mjs']) !== 0) {
    console.warn('Chromium set-up failed: the browser engine will not work locally; everything else will.');
  }
}

// CI=true makes wrangler apply migrations without asking.
if (run('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local'], { CI: 'true' }) !== 0) process.exit(1);

const child = spawn('npx', ['wrangler', 'dev', ...process.argv.slice(2)], { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
