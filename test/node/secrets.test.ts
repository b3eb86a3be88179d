import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import initialize from '@phi-ag/argon2/node';
import { parseConfig } from '../../src/config';

const root = path.resolve(import.meta.dirname, '../..');

function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(["'])(.*)\2$/.exec(line);
    if (m) out[m[1] as string] = m[3] as string;
  }
  return out;
}

function runSecrets(args: string[]) {
  return spawnSync('npx', ['tsx', 'scripts/secrets.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

describe('npm run secrets', () => {
  it('writes a 0600 .dev.vars whose secrets pass the config schema and whose hash verifies', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'cg-')), '.dev.vars');
    const res = runSecrets(['--out', out, '--admin-password', 'correct horse battery staple', '--admin-user', 'root', '--bootstrap-key']);
    expect(res.status, res.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const vars = parseDotEnv(readFileSync(out, 'utf8'));
    expect(Object.keys(vars)).toEqual(
      expect.arrayContaining(['JWT_SECRET_KEY', 'API_KEY_SALT', 'ORIGIN_SECRET', 'ADMIN_USERNAME', 'ADMIN_PASSWORD_HASH', 'API_KEYS']),
    );
    expect(vars.ADMIN_USERNAME).toBe('root');
    expect(vars.ENVIRONMENT).toBe('development');
    expect(vars.ALLOW_PRIVATE_TARGETS).toBe('true'); // local pages crawlable in development only
    expect(vars.ADMIN_PASSWORD_HASH).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const parsed = parseConfig(vars);
    expect(parsed.ok).toBe(true);
    // A Web Bot Auth signing key (docs/polite-crawling.md), parsed by the config, never printed.
    expect(parsed.ok && parsed.config.WEB_BOT_AUTH_KEYS).toHaveLength(1);
    expect(res.stdout).not.toContain((JSON.parse(vars.WEB_BOT_AUTH_KEYS as string) as Array<{ d: string }>)[0]!.d);
    const argon2 = await initialize();
    expect(argon2.tryVerify(vars.ADMIN_PASSWORD_HASH as string, 'correct horse battery staple').success).toBe(true);
    expect(argon2.tryVerify(vars.ADMIN_PASSWORD_HASH as string, 'wrong').success).toBe(false);
    const bootstrap = JSON.parse(vars.API_KEYS as string).bootstrap;
    expect(bootstrap.scopes).toContain('keys:manage');
    expect(res.stdout).toContain(bootstrap.key);
    expect(res.stdout).not.toContain(vars.JWT_SECRET_KEY);
    expect(res.stdout).toContain('wrangler secret bulk');
  });

  it('generates different secrets each run', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cg-'));
    const a = path.join(dir, 'a'),
      b = path.join(dir, 'b');
    runSecrets(['--out', a, '--admin-password', 'correct horse battery staple']);
    runSecrets(['--out', b, '--admin-password', 'correct horse battery staple']);
    const va = parseDotEnv(readFileSync(a, 'utf8')),
      vb = parseDotEnv(readFileSync(b, 'utf8'));
    expect(va.JWT_SECRET_KEY).not.toBe(vb.JWT_SECRET_KEY);
    expect(va.ADMIN_PASSWORD_HASH).not.toBe(vb.ADMIN_PASSWORD_HASH);
  });

  it('writes production secrets without the development switches', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'cg-')), '.prod.vars');
    expect(runSecrets(['--out', out, '--environment', 'production', '--admin-password', 'correct horse battery staple']).status).toBe(0);
    const vars = parseDotEnv(readFileSync(out, 'utf8'));
    expect(vars.ENVIRONMENT).toBe('production');
    expect(vars.ALLOW_PRIVATE_TARGETS).toBeUndefined();
    expect(parseConfig(vars).ok).toBe(true);
  });

  it('never overwrites without --force', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'cg-')), '.dev.vars');
    writeFileSync(out, 'KEEP=1\n');
    const res = runSecrets(['--out', out, '--admin-password', 'correct horse battery staple']);
    expect(res.status).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('KEEP=1\n');
    expect(runSecrets(['--out', out, '--admin-password', 'correct horse battery staple', '--force']).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('JWT_SECRET_KEY=');
  });

  it('generates and prints an admin password when none is given and no terminal is attached', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'cg-')), '.dev.vars');
    const res = runSecrets(['--out', out]);
    expect(res.status).toBe(0);
    const printed = /Admin login: admin \/ (\S+)/.exec(res.stdout)?.[1];
    expect(printed && printed.length).toBeGreaterThanOrEqual(16);
  });

  it('refuses a short admin password', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'cg-')), '.dev.vars');
    expect(runSecrets(['--out', out, '--admin-password', 'short']).status).toBe(1);
  });

  it('the seed-strength hash (m=65536,t=3,p=4) is accepted by the config schema', () => {
    const seedLike = '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ';
    expect(
      parseConfig({
        JWT_SECRET_KEY: 'k'.repeat(8) + 'abcdefghijklmnopqrstuvwxyz12',
        API_KEY_SALT: 'abcdefghijklmnopqrstuvwxyz0123456789',
        ADMIN_USERNAME: 'admin',
        ADMIN_PASSWORD_HASH: seedLike,
      }).ok,
    ).toBe(true);
  });
});
