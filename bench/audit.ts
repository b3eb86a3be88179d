/**
 * `npm run bench:audit` — audit throughput through 1, 4 and 16 shards, and verify time.
 *
 *  1. Starts bench/audit-worker.ts under `wrangler dev` (real AuditLog objects, local D1 and R2).
 *     For each shard count it appends a fixed number of security events (→ D1 rows) and of
 *     allowed-request events (→ R2 segments, windows closed at the end): four HTTP requests in
 *     flight (like four busy isolates), each sending 10 batches of 50 events one after another,
 *     every batch split over its shards in parallel as src/audit/writer.ts does.
 *  2. Verifies what was written through the Worker (D1 rows and R2 segments, every shard).
 *  3. Verify cost of 1,000,000 archived events in Node: 200 gzip NDJSON segments of 5,000 chained
 *     records, gunzip + parse + hash + link checks (the same code the Worker runs).
 * Bounded: a few thousand events per step; the whole run takes a few minutes on 2 busy cores.
 * Local figures: one workerd process runs every object, D1 and R2 on the same cores, so shards
 * cannot scale here the way separate objects do at the edge (docs/scale.md reads them).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startWrangler } from './lib.mjs';
import { chainEvent, ChainVerifier, GENESIS_HASH } from '../src/audit/hash-chain';
import { decodeRecords, encodeRecords, gunzip, gzip } from '../src/audit/segment-codec';
import { streamBase } from '../src/audit/shards';
import type { AuditEvent, AuditRow } from '../src/audit/types';

const D1_EVENTS = Number(process.env.BENCH_AUDIT_D1 ?? 4000);
const R2_EVENTS = Number(process.env.BENCH_AUDIT_R2 ?? 12000);
const VERIFY_EVENTS = Number(process.env.BENCH_AUDIT_VERIFY ?? 1_000_000);
const BATCHES = 10;
const PER_REQUEST = BATCHES * 50;
const IN_FLIGHT = 4;

async function drive(base: string, shards: number, kind: 'd1' | 'r2', total: number): Promise<number> {
  const requests = Math.ceil(total / PER_REQUEST);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < requests) {
        next++;
        const r = await fetch(`${base}/append?shards=${shards}&kind=${kind}&batches=${BATCHES}&size=50`, {
          signal: AbortSignal.timeout(180_000),
        });
        if (!r.ok) throw new Error(`append: ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      }
    }),
  );
  if (kind === 'r2') await (await fetch(`${base}/flush?shards=${shards}`, { signal: AbortSignal.timeout(180_000) })).arrayBuffer();
  return (requests * PER_REQUEST) / ((performance.now() - started) / 1000);
}

function fakeEvent(i: number): AuditEvent {
  return {
    ts: 1_764_000_000_000 + i,
    request_id: `req-${i}`,
    actor_id: `usr_${i % 997}`,
    actor_kind: 'user',
    actor_name: null,
    ip: '203.0.113.9',
    method: 'POST',
    route: '/crawl',
    action: 'crawl_requested',
    outcome: 'success',
    reason: null,
    status: 200,
    details: '{"urls":1,"engine":"fetch"}',
  };
}

async function verifyMillion(): Promise<{ build_s: number; verify_s: number; per_s: number; gz_mb: number }> {
  const segmentSize = 5000;
  const base = streamBase(0, 'r2');
  const segments: Uint8Array[] = [];
  let prev = { id: base, hash: GENESIS_HASH };
  const t0 = performance.now();
  for (let s = 0; s < VERIFY_EVENTS / segmentSize; s++) {
    const rows: AuditRow[] = [];
    for (let i = 0; i < segmentSize; i++) {
      const row = chainEvent(fakeEvent(s * segmentSize + i), prev);
      rows.push(row);
      prev = { id: row.id, hash: row.hash };
    }
    segments.push(await gzip(encodeRecords(0, rows)));
  }
  const t1 = performance.now();
  const v = new ChainVerifier({ id: base, hash: GENESIS_HASH });
  for (const seg of segments)
    for (const r of decodeRecords(await gunzip(seg))) if (v.push(r)) throw new Error(`broken: ${JSON.stringify(v.broken)}`);
  v.finish(prev);
  const t2 = performance.now();
  if (v.checked !== VERIFY_EVENTS) throw new Error('verify count mismatch');
  return {
    build_s: (t1 - t0) / 1000,
    verify_s: (t2 - t1) / 1000,
    per_s: VERIFY_EVENTS / ((t2 - t1) / 1000),
    gz_mb: segments.reduce((n, s) => n + s.byteLength, 0) / 1e6,
  };
}

async function main() {
  const lines: string[] = [
    `# bench:audit (${new Date().toISOString()}, ${process.env.BENCH_NOTE ?? 'shared 2-core machine, other jobs running'})`,
    '',
  ];
  if (process.env.BENCH_AUDIT_ONLY_VERIFY) return verifyPart(lines);
  const server = await startWrangler({ config: path.join(ROOT, 'bench/audit-wrangler.toml'), vars: {}, migrate: true, inspector: false });
  // The user Worker's own port when found (wrangler's dev proxy adds a hop that stalled long requests here).
  const base = server.direct ?? server.base;
  const results: Array<{ shards: number; d1: number; r2: number }> = [];
  try {
    await drive(base, 1, 'd1', PER_REQUEST); // warm-up
    for (const shards of [1, 4, 16]) {
      const d1 = await drive(base, shards, 'd1', D1_EVENTS);
      const r2 = await drive(base, shards, 'r2', R2_EVENTS);
      results.push({ shards, d1, r2 });
      console.log(`shards=${shards}: D1 security events ${d1.toFixed(0)}/s, R2 archive events ${r2.toFixed(0)}/s`);
    }
    const t = performance.now();
    const vr = await fetch(`${base}/verify?shards=16`, { signal: AbortSignal.timeout(300_000) });
    const verified = (await vr.json()) as { checked: number; broken: unknown[] };
    const s = (performance.now() - t) / 1000;
    console.log(
      `verify in workerd (shards 0-15, D1 + R2): ${verified.checked} records in ${s.toFixed(1)} s (${(verified.checked / s).toFixed(0)}/s), broken: ${verified.broken.length}`,
    );
    lines.push('| shards | D1 security events/s | R2 archived events/s |', '|---|---|---|');
    for (const r of results) lines.push(`| ${r.shards} | ${r.d1.toFixed(0)} | ${r.r2.toFixed(0)} |`);
    lines.push(
      '',
      `verify in workerd: ${verified.checked} records (D1 + R2, 16 shards) in ${s.toFixed(1)} s = ${(verified.checked / s).toFixed(0)} records/s; broken ${verified.broken.length}`,
    );
  } finally {
    server.stop();
  }
  await verifyPart(lines);
}

async function verifyPart(lines: string[]) {
  const m = await verifyMillion();
  console.log(
    `verify ${VERIFY_EVENTS} archived events in Node: ${m.verify_s.toFixed(1)} s (${m.per_s.toFixed(0)}/s); ${m.gz_mb.toFixed(1)} MB gzip; building them took ${m.build_s.toFixed(1)} s`,
  );
  lines.push(
    `verify ${VERIFY_EVENTS} archived events (200 segments, Node, one core): ${m.verify_s.toFixed(1)} s = ${m.per_s.toFixed(0)} records/s; segments ${m.gz_mb.toFixed(1)} MB gzip (build ${m.build_s.toFixed(1)} s)`,
  );
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, `bench/results/audit${process.env.BENCH_AUDIT_ONLY_VERIFY ? '-verify' : ''}.md`), lines.join('\n') + '\n');
}

await main();
