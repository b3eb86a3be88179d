/**
 * `npm run secrets` — generates crawlgate's secrets (the successor of the seed's generate_secrets.py).
 *
 *   npm run secrets -- --admin-password <pw> [--admin-user admin] [--force] [--out .dev.vars]
 *                      [--bootstrap-key] [--environment development|production]
 *
 * Writes JWT_SECRET_KEY, API_KEY_SALT, ORIGIN_SECRET, ADMIN_USERNAME and ADMIN_PASSWORD_HASH
 * (argon2id PHC string, OWASP parameters m=19456,t=2,p=1 — verified inside the Worker's CPU budget)
 * to the file (mode 0600, never overwritten without --force). `--bootstrap-key` also writes an
 * `API_KEYS` entry holding one admin key (keys:manage, keys:read, users:manage, audit:read), printed
 * once. Without --admin-password it prompts on a terminal, or generates a password and prints it.
 * Nothing secret is printed except what the operator must copy once (the generated password/key).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync, chmodSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import initialize from '@phi-ag/argon2/node';
import { Argon2Type, Argon2Version } from '@phi-ag/argon2';

export const OWASP_ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32 } as const;

export interface SecretsOptions {
  adminPassword?: string;
  adminUser: string;
  force: boolean;
  out: string;
  bootstrapKey: boolean;
  environment: 'development' | 'production';
}

export function parseArgs(argv: string[]): SecretsOptions {
  const opts: SecretsOptions = { adminUser: 'admin', force: false, out: '.dev.vars', bootstrapKey: false, environment: 'development' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--admin-password') opts.adminPassword = value();
    else if (a === '--admin-user') opts.adminUser = value();
    else if (a === '--out') opts.out = value();
    else if (a === '--force') opts.force = true;
    else if (a === '--bootstrap-key') opts.bootstrapKey = true;
    else if (a === '--environment') {
      const v = value();
      if (v !== 'development' && v !== 'production') throw new Error('--environment must be development or production');
      opts.environment = v;
    } else if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run secrets -- [--admin-password PW] [--admin-user NAME] [--out FILE] [--force] [--bootstrap-key] [--environment development|production]',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(opts.adminUser)) throw new Error('--admin-user must be 1-64 of A-Z a-z 0-9 . _ @ -');
  return opts;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random base62 string with `bits` of entropy (rejection sampling: no modulo bias). */
export function randomBase62(bits: number): string {
  const length = Math.ceil(bits / Math.log2(62));
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

export async function hashPassword(password: string): Promise<string> {
  const argon2 = await initialize();
  return argon2.hash(password, { ...OWASP_ARGON2, type: Argon2Type.Argon2id, version: Argon2Version.Version13 }).encoded;
}

/**
 * .dev.vars / .env syntax as wrangler reads it (dotenv.parse, no expansion, no backslash escapes):
 * values with a double quote (JSON) go in single quotes, everything else in double quotes.
 */
export function formatVars(vars: Record<string, string>): string {
  return (
    Object.entries(vars)
      .map(([k, v]) => {
        if (/[\r\n]/.test(v)) throw new Error(`${k} contains a line break`);
        if (!v.includes('"')) return `${k}="${v}"`;
        if (v.includes("'")) throw new Error(`${k} contains both quote characters`);
        return `${k}='${v}'`;
      })
      .join('\n') + '\n'
  );
}

/** One fresh Ed25519 private JWK, as the JSON array WEB_BOT_AUTH_KEYS expects (prepend new keys to rotate). */
export function webBotAuthKeys(): string {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return JSON.stringify([{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }]);
}

/** One fresh Ed25519 private JWK for AUDIT_CHECKPOINT_KEY. */
export function auditCheckpointKey(): string {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d });
}

export async function generate(opts: SecretsOptions & { adminPassword: string }) {
  const vars: Record<string, string> = {
    ENVIRONMENT: opts.environment,
    // Local development crawls pages on this machine (cloud-metadata addresses stay refused);
    // the config refuses this switch in production.
    ...(opts.environment === 'development' ? { ALLOW_PRIVATE_TARGETS: 'true' } : {}),
    JWT_SECRET_KEY: randomBytes(48).toString('base64url'),
    API_KEY_SALT: randomBytes(32).toString('hex'),
    ORIGIN_SECRET: randomBytes(32).toString('base64url'),
    ADMIN_USERNAME: opts.adminUser,
    ADMIN_PASSWORD_HASH: await hashPassword(opts.adminPassword),
    // Web Bot Auth: the Ed25519 key that signs outgoing crawl requests (docs/polite-crawling.md).
    WEB_BOT_AUTH_KEYS: webBotAuthKeys(),
    // Audit checkpoints: the Ed25519 key that signs every shard's heads (docs/audit.md "Checkpoints").
    AUDIT_CHECKPOINT_KEY: auditCheckpointKey(),
  };
  let bootstrapKey: string | undefined;
  if (opts.bootstrapKey) {
    bootstrapKey = `sk-admin-${randomBase62(160)}`;
    vars.API_KEYS = JSON.stringify({
      bootstrap: {
        key: bootstrapKey,
        name: 'Bootstrap admin key',
        rate_limit: '600/minute',
        scopes: ['keys:manage', 'keys:read', 'users:manage', 'audit:read', 'metrics:read'],
      },
    });
  }
  return { vars, bootstrapKey };
}

async function promptPassword(): Promise<string | undefined> {
  if (!process.stdin.isTTY || process.env.CI) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const pw = (await rl.question('Admin password (empty: generate one): ')).trim();
  rl.close();
  return pw || undefined;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (existsSync(opts.out) && !opts.force) {
    console.error(`${opts.out} exists; not overwriting it (use --force to replace every secret in it).`);
    process.exit(1);
  }
  let generatedPassword = false;
  let password = opts.adminPassword ?? (await promptPassword());
  if (!password) {
    password = randomBase62(96);
    generatedPassword = true;
  }
  if (password.length < 12) {
    console.error('The admin password must be at least 12 characters.');
    process.exit(1);
  }
  const { vars, bootstrapKey } = await generate({ ...opts, adminPassword: password });
  writeFileSync(opts.out, formatVars(vars), { mode: 0o600 });
  chmodSync(opts.out, 0o600);
  console.log(`Wrote ${opts.out} (mode 0600): ${Object.keys(vars).join(', ')}`);
  console.log(`Admin login: ${opts.adminUser} / ${generatedPassword ? password : '(the password you gave)'}`);
  if (bootstrapKey) console.log(`Bootstrap admin API key (shown once): ${bootstrapKey}`);
  console.log('\nFor production, generate a separate file and upload it as secrets:');
  console.log('  npm run secrets -- --environment production --out .prod.vars --admin-password "<strong password>"');
  console.log('  npx wrangler secret bulk .prod.vars && rm .prod.vars');
  console.log(
    'or one at a time: npx wrangler secret put JWT_SECRET_KEY (and API_KEY_SALT, ORIGIN_SECRET, ADMIN_USERNAME, ADMIN_PASSWORD_HASH, WEB_BOT_AUTH_KEYS, AUDIT_CHECKPOINT_KEY)',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
