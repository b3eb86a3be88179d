#!/usr/bin/env node
/**
 * Verifies the audit hash chain stored in D1, outside the Worker (docs/audit.md).
 *
 *   node scripts/audit-verify.mjs --local                # the `wrangler dev` database
 *   node scripts/audit-verify.mjs --remote               # the deployed database
 *   node scripts/audit-verify.mjs --local --persist-to .wrangler/state
 *
 * Per shard (ids shard × 2^40 + position; shard 0 = `chain:global`), reads its `audit_checkpoints`
 * row and then its `audit_events` rows in id order, page by page, through
 * `wrangler d1 execute DB --json --command ...`, recomputes every hash with the same code the
 * Worker uses (src/audit/hash-chain.ts) and prints a JSON report naming the first broken link.
 * Exit code: 0 intact, 1 broken, 2 could not read the database.
 * It checks D1 only: it cannot see the AuditLog objects' anchors, the signed checkpoints or the R2
 * segments, so a deleted *newest* row or a deleted prefix is only caught by GET /admin/audit/verify.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { tsImport } from 'tsx/esm/api';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const WRANGLER = require.resolve('wrangler/bin/wrangler.js');
const CHAIN = 'chain:global';
const COLUMNS =
  'id, ts, request_id, actor_id, actor_kind, actor_name, ip, method, route, action, outcome, reason, status, details, prev_hash, hash';

function parseArgs(argv) {
  const opts = { target: null, persistTo: null, config: null, page: 1000, database: 'DB' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--local' || a === '--remote') opts.target = a;
    else if (a === '--persist-to') opts.persistTo = argv[++i];
    else if (a === '--config' || a === '-c') opts.config = argv[++i];
    else if (a === '--database') opts.database = argv[++i];
    else if (a === '--page') opts.page = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node scripts/audit-verify.mjs --local|--remote [--persist-to DIR] [--config wrangler.toml] [--database DB] [--page 1000]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.target) throw new Error('pass --local or --remote');
  if (!Number.isInteger(opts.page) || opts.page < 1 || opts.page > 5000) throw new Error('--page must be 1..5000');
  return opts;
}

/** One SELECT through wrangler; returns its rows. Values are integers the script made, never input. */
async function query(opts, sql) {
  const args = [WRANGLER, 'd1', 'execute', opts.database, opts.target, '--json', '--command', sql];
  if (opts.persistTo) args.push('--persist-to', opts.persistTo);
  if (opts.config) args.push('--config', opts.config);
  const { stdout } = await run(process.execPath, args, {
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
  });
  const start = stdout.search(/^\[/m);
  const parsed = JSON.parse(stdout.slice(start));
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || first.success === false) throw new Error(`query failed: ${sql.slice(0, 60)}`);
  return first.results ?? [];
}

const STRIDE = 2 ** 40;
const ARCHIVE_OFFSET = 2 ** 39;

/** Shard 0 is the pre-sharding chain `chain:global`; shard n is `chain:<n>` (src/audit/shards.ts). */
function chainName(shard) {
  return shard === 0 ? CHAIN : `chain:${shard}`;
}

/** Walks one shard's D1 chain (ids shard × 2^40 + position) from its retention checkpoint. */
async function verifyShard(opts, ChainVerifier, GENESIS_HASH, shard) {
  const base = shard * STRIDE;
  const [checkpoint] = await query(opts, `SELECT seq, hash, pruned_at FROM audit_checkpoints WHERE chain = '${chainName(shard)}'`);
  const verifier = new ChainVerifier(checkpoint ? { id: checkpoint.seq, hash: checkpoint.hash } : { id: base, hash: GENESIS_HASH });
  let after = checkpoint ? Number(checkpoint.seq) : base;
  let firstSeq = null;
  for (;;) {
    const rows = await query(
      opts,
      `SELECT ${COLUMNS} FROM audit_events WHERE id > ${after} AND id < ${base + ARCHIVE_OFFSET} ORDER BY id LIMIT ${opts.page}`,
    );
    for (const row of rows) {
      firstSeq ??= row.id;
      if (verifier.push(row)) break;
    }
    if (verifier.broken || rows.length < opts.page) break;
    after = rows.at(-1).id;
  }
  const broken = verifier.broken ? { ...verifier.broken, shard, position: verifier.broken.seq - base } : null;
  return {
    shard,
    checked: verifier.checked,
    checkpoint: checkpoint ?? null,
    first_seq: firstSeq,
    last_seq: broken || firstSeq === null ? null : verifier.last.id,
    broken,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { ChainVerifier, GENESIS_HASH } = await tsImport('../src/audit/hash-chain.ts', import.meta.url);
  // Every shard with rows (integer division of the id), and shard 0 always.
  const present = await query(opts, `SELECT DISTINCT id / ${STRIDE} AS shard FROM audit_events ORDER BY shard`);
  const shards = [...new Set([0, ...present.map((r) => Number(r.shard))])].sort((a, b) => a - b);
  const reports = [];
  for (const shard of shards) reports.push(await verifyShard(opts, ChainVerifier, GENESIS_HASH, shard));
  const broken = reports.find((r) => r.broken)?.broken ?? null;
  const first = reports[0];
  const report = {
    ok: broken === null,
    checked: reports.reduce((n, r) => n + r.checked, 0),
    checkpoint: first.checkpoint,
    first_seq: first.first_seq,
    last_seq: first.last_seq,
    broken,
    shards: reports,
  };
  console.log(JSON.stringify(report, null, 2));
  process.exit(report.ok ? 0 : 1);
}

main().catch((err) => {
  console.error(`audit-verify: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
