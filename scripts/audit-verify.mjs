#!/usr/bin/env node
/**
 * Verifies the audit log outside the Worker (docs/audit.md "Tamper evidence"), with the same code
 * the Worker runs (src/audit/verify.ts, src/audit/checkpoint-jws.ts, src/audit/hash-chain.ts).
 *
 *   AUDIT_CHECKPOINT_KEY=... node scripts/audit-verify.mjs --local [--persist-to DIR]
 *   AUDIT_CHECKPOINT_KEY=... node scripts/audit-verify.mjs --remote [--bucket-name crawlgate-results]
 *   node scripts/audit-verify.mjs --local --d1-only      # D1 chains only, no anchors (says so)
 *
 * 1. Reads the signed checkpoint `audit/checkpoints/latest.jws` from R2 and checks its signature
 *    with AUDIT_CHECKPOINT_KEY (env or --key-file: the HMAC secret, the Ed25519 private JWK, or just
 *    its public JWK — verifying needs no signing key).
 * 2. For every shard the checkpoint names (and any other shard with D1 rows), walks the D1 chain
 *    from the signed retention boundary and the R2 segments in position order, and checks that each
 *    passes the signed heads with the same hashes (so a deleted prefix with D1's checkpoint moved, a
 *    dropped newest row or segment, or a re-hashed chain are reported with shard and position).
 * Prints one JSON report (per shard: d1 and r2). Exit code: 0 intact, 1 broken, 2 an anchor cannot
 * be read (checkpoint missing, signature wrong, no key) or a store cannot be read.
 *
 * The Worker's verify also reads each shard object's own anchors (newer than the last checkpoint);
 * the CLI cannot reach Durable Object storage, so records written after the last checkpoint are
 * checked for links only, and a retention run after the last checkpoint (the hourly cron takes a
 * checkpoint right after retention) would be reported as a deleted prefix until the next one.
 * Local stores are read through wrangler's platform proxy (R2 listed); with --remote, through
 * `wrangler d1 execute` and `wrangler r2 object get`: segments are found by following the chain
 * (each key is named by its first position), so a deleted middle segment ends the walk there and is
 * reported as `truncated` at that position.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { tsImport } from 'tsx/esm/api';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const WRANGLER = require.resolve('wrangler/bin/wrangler.js');
const WRANGLER_ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };

const USAGE =
  'usage: node scripts/audit-verify.mjs --local|--remote [--persist-to DIR] [--config wrangler.toml] [--database DB] [--bucket RESULTS] [--bucket-name crawlgate-results] [--key-file FILE] [--d1-only]';

class AnchorError extends Error {}

function parseArgs(argv) {
  const opts = {
    target: null,
    persistTo: null,
    config: null,
    database: 'DB',
    bucket: 'RESULTS',
    bucketName: 'crawlgate-results',
    keyFile: null,
    d1Only: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--local' || a === '--remote') opts.target = a;
    else if (a === '--persist-to') opts.persistTo = argv[++i];
    else if (a === '--config' || a === '-c') opts.config = argv[++i];
    else if (a === '--database') opts.database = argv[++i];
    else if (a === '--bucket') opts.bucket = argv[++i];
    else if (a === '--bucket-name') opts.bucketName = argv[++i];
    else if (a === '--key-file') opts.keyFile = argv[++i];
    else if (a === '--d1-only') opts.d1Only = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!opts.target) throw new Error(`pass --local or --remote\n${USAGE}`);
  return opts;
}

/** SQL with its `?` replaced by literals (values are ids, hashes and shard names from the anchors). */
function inline(sql, args) {
  let i = 0;
  return sql.replace(/\?/g, () => {
    const v = args[i++];
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new Error(`not an integer: ${v}`);
      return String(v);
    }
    return `'${String(v).replace(/'/g, "''")}'`;
  });
}

/** A D1Database for verify.ts over `wrangler d1 execute --remote --json` (prepare/bind/first/all). */
function wranglerD1(opts) {
  const query = async (sql) => {
    const args = [WRANGLER, 'd1', 'execute', opts.database, opts.target, '--json', '--command', sql];
    if (opts.config) args.push('--config', opts.config);
    const { stdout } = await run(process.execPath, args, { maxBuffer: 256 * 1024 * 1024, env: WRANGLER_ENV });
    const parsed = JSON.parse(stdout.slice(stdout.search(/^\[/m)));
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!first || first.success === false) throw new Error(`D1 query failed: ${sql.slice(0, 60)}`);
    return first.results ?? [];
  };
  const statement = (sql, args = []) => ({
    bind: (...values) => statement(sql, values),
    first: async () => (await query(inline(sql, args)))[0] ?? null,
    all: async () => ({ results: await query(inline(sql, args)) }),
  });
  return { prepare: (sql) => statement(sql) };
}

/**
 * An R2Bucket for verify.ts over `wrangler r2 object get --remote --pipe`. Wrangler cannot list a
 * bucket, so list() follows the chain: from the segment after the signed boundary (`startAt`), each
 * next key is named by the position after the last record of the one before.
 */
function wranglerR2(opts, codec) {
  const cache = new Map();
  const startAt = new Map();
  const get = async (key) => {
    if (cache.has(key)) return cache.get(key);
    const args = [WRANGLER, 'r2', 'object', 'get', `${opts.bucketName}/${key}`, opts.target, '--pipe'];
    if (opts.config) args.push('--config', opts.config);
    let body;
    try {
      body = (await run(process.execPath, args, { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024, env: WRANGLER_ENV })).stdout;
    } catch (err) {
      if (/specified key does not exist/i.test(String(err.stderr ?? ''))) return null;
      throw new Error(`R2 read of ${key} failed: ${String(err.stderr ?? err).slice(0, 200)}`);
    }
    const object = {
      arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength),
      text: async () => body.toString('utf8'),
    };
    cache.set(key, object);
    return object;
  };
  return {
    startAt,
    get,
    async list({ prefix }) {
      const shard = Number(/s(\d{3})\/$/.exec(prefix)?.[1] ?? NaN);
      const keys = [];
      let position = startAt.get(shard) ?? 1;
      for (;;) {
        const key = codec.segmentKey(shard, position);
        const object = await get(key);
        if (!object) break;
        keys.push(key);
        let records;
        try {
          records = codec.decodeRecords(await codec.gunzip(await object.arrayBuffer()));
        } catch {
          break; // unreadable: verify reports it
        }
        const last = records.at(-1);
        if (!last) break;
        position = codec.locateId(last.id).position + 1;
      }
      return { objects: keys.map((key) => ({ key })), truncated: false };
    },
  };
}

/** The stores: local through wrangler's platform proxy (real bindings), remote through wrangler's CLI. */
async function openStores(opts, codec) {
  if (opts.target === '--remote') return { db: wranglerD1(opts), bucket: wranglerR2(opts, codec), dispose: async () => {} };
  const { getPlatformProxy } = await import('wrangler');
  const proxy = await getPlatformProxy({
    configPath: opts.config ?? 'wrangler.toml',
    persist: { path: path.join(opts.persistTo ?? '.wrangler/state', 'v3') },
  });
  const db = proxy.env[opts.database];
  const bucket = proxy.env[opts.bucket];
  if (!db) throw new Error(`no D1 binding ${opts.database} in the config`);
  if (!bucket && !opts.d1Only) throw new Error(`no R2 binding ${opts.bucket} in the config`);
  return { db, bucket, dispose: () => proxy.dispose() };
}

function checkpointKey(opts) {
  if (opts.keyFile) return readFileSync(opts.keyFile, 'utf8').trim();
  return process.env.AUDIT_CHECKPOINT_KEY;
}

/** The latest signed checkpoint; AnchorError when it cannot be read or its signature does not hold. */
async function readCheckpoint(opts, bucket, jws) {
  const secret = checkpointKey(opts);
  if (!secret) throw new AnchorError('AUDIT_CHECKPOINT_KEY is not set (env or --key-file): the signed checkpoint cannot be checked');
  let object;
  try {
    object = await bucket.get(jws.LATEST_CHECKPOINT_KEY);
  } catch (err) {
    throw new AnchorError(`the R2 checkpoint cannot be read (${String(err).slice(0, 200)})`);
  }
  if (!object) throw new AnchorError(`the signed checkpoint ${jws.LATEST_CHECKPOINT_KEY} is missing from R2`);
  const text = (await object.text()).trim();
  try {
    return await jws.openCheckpoint(secret, text);
  } catch (err) {
    throw new AnchorError(`the R2 checkpoint is not valid: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const load = (p) => tsImport(p, import.meta.url);
  const [verify, jws, shards, codec] = await Promise.all([
    load('../src/audit/verify.ts'),
    load('../src/audit/checkpoint-jws.ts'),
    load('../src/audit/shards.ts'),
    load('../src/audit/segment-codec.ts'),
  ]);
  const { GENESIS_HASH } = await load('../src/audit/hash-chain.ts');
  const stores = await openStores(opts, { ...codec, locateId: shards.locateId });
  try {
    const payload = opts.d1Only ? null : await readCheckpoint(opts, stores.bucket, jws);
    // Every shard the checkpoint names, and any other shard with D1 rows (integer division of the id).
    const stride = shards.SHARD_STRIDE; // an integer constant: integer division (a bound number may be a REAL)
    const present = await stores.db.prepare(`SELECT DISTINCT id / ${stride} AS shard FROM audit_events ORDER BY shard`).all();
    const numbers = new Set([0, ...(payload?.shards ?? []).map((s) => s.shard), ...present.results.map((r) => Number(r.shard))]);
    const reports = [];
    for (const shard of [...numbers].sort((a, b) => a - b)) {
      const signed = payload?.shards.find((s) => s.shard === shard) ?? null;
      const genesis = (stream) => ({ id: shards.streamBase(shard, stream), hash: GENESIS_HASH });
      const anchorsOf = async (stream) => {
        if (signed) return { pruned: signed[stream].pruned, head: signed[stream].head, signed: signed[stream].head };
        if (!opts.d1Only) return { pruned: genesis(stream), head: genesis(stream), signed: null };
        // --d1-only: D1's own retention checkpoint is trusted (no anchor outside D1 is read).
        const cp = await stores.db
          .prepare('SELECT seq AS id, hash FROM audit_checkpoints WHERE chain = ?')
          .bind(shards.shardName(shard))
          .first();
        return { pruned: cp ?? genesis(stream), head: genesis(stream), signed: null };
      };
      const budget = { left: Number.MAX_SAFE_INTEGER, after: 0 };
      const d1 = await verify.verifyD1Stream(stores.db, shard, await anchorsOf('d1'), budget);
      let r2 = null;
      if (!opts.d1Only) {
        const anchors = await anchorsOf('r2');
        stores.bucket.startAt?.set(shard, shards.locateId(anchors.pruned.id).position + 1);
        r2 = await verify.verifyR2Stream(stores.bucket, shard, anchors, budget);
      }
      reports.push({ shard, name: shards.shardName(shard), signed: signed !== null, d1, r2 });
    }
    const broken = reports.map((r) => r.d1.broken ?? r.r2?.broken).find(Boolean) ?? null;
    const report = {
      ok: broken === null,
      checked: reports.reduce((n, r) => n + r.d1.checked + (r.r2?.checked ?? 0), 0),
      anchors: payload ? 'signed checkpoint' : 'none (--d1-only: D1 alone, a deleted prefix or newest rows are not detected)',
      checkpoint: payload ? { taken_at: payload.taken_at, shards: payload.shards.length } : null,
      broken,
      shards: reports,
    };
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  } finally {
    await stores.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const anchor = err instanceof AnchorError;
    console.error(`audit-verify: ${anchor ? 'anchor unavailable: ' : ''}${err instanceof Error ? err.message : String(err)}`);
    if (anchor) console.log(JSON.stringify({ ok: false, anchor_unavailable: true, error: err.message }, null, 2));
    process.exit(2);
  },
);
