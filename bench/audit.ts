/**
 * `npm run bench:audit` — audit throughput through 1, 4 and 16 shards, and verify time.
 *
 *  1. Starts bench/audit-worker.ts under `wrangler dev` (real AuditLog objects, local D1 and R2).
 *     For each shard count it appends a fixed number of security events (→ D1 rows) and of
 *     allowed-request events (→ R2 segments, windows closed at the end): four HTTP requests in
 *     flight (like four busy isolates), each sending 10 batches of 50 events one after another,
 *     every batch split over its shards in parallel as src/audit/writer.ts does.
 *  2. Verifies what was written through the Worker (D1 rows and R2 segments, every shard) and
 *     checks that every acknowledged event is there.
 *  3. Verify cost of 1,000,000 archived events in Node: 200 gzip NDJSON segments of 5,000 chained
 *     records, gunzip + parse + hash + link checks (the same code the Worker runs).
 * Bounded: a few thousand events per step, every request on its own connection with a timeout, and
 * every row with a deadline (BENCH_AUDIT_ROW_S, default 180 s): a row that does not finish is
 * printed as "not measured" with its reason. Every row prints the machine's load (`uptime`).
 * Local figures: one workerd process runs every object, D1 and R2 on the same cores, so shards
 * cannot scale here the way separate objects do at the edge (docs/scale.md reads them).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { ROOT, startWrangler } from './lib.mjs';
import { chainEvent, ChainVerifier, GENESIS_HASH } from '../src/audit/hash-chain';
import { decodeRecords, encodeRecords, gunzip, gzip } from '../src/audit/segment-codec';
import { streamBase } from '../src/audit/shards';
import type { AuditEvent, AuditRow } from '../src/audit/types';

const D1_EVENTS = Number(process.env.BENCH_AUDIT_D1 ?? 4000);
const R2_EVENTS = Number(process.env.BENCH_AUDIT_R2 ?? 12000);
const VERIFY_EVENTS = Number(process.env.BENCH_AUDIT_VERIFY ?? 1_000_000);
/** A row (one shard count, one store) that has not finished in this many seconds is reported as not measured. */
const ROW_DEADLINE_S = Number(process.env.BENCH_AUDIT_ROW_S ?? 180);
const REQUEST_TIMEOUT_MS = 60_000;
const BATCHES = 10;
const PER_REQUEST = BATCHES * 50;
const IN_FLIGHT = Number(process.env.BENCH_AUDIT_IN_FLIGHT ?? 4);

/** The machine's load, printed with every row (the machine may be shared). */
function load(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' })
      .trim()
      .replace(/^.*load average/, 'load average');
  } catch {
    return `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`;
  }
}

/**
 * One GET on its own TCP connection (no keep-alive). Locally, workerd serves the socket, every
 * AuditLog object, D1 and R2 on one event loop: while it is busy for seconds it does not read its
 * sockets, and kj's HTTP server then closes a kept-alive connection whose next request it has not
 * read within 5 s (its pipeline timeout) — the "stall" of earlier runs (docs/scale.md, "Open").
 * A fresh connection per request is never subject to that timer.
 */
function get(base: string, pathAndQuery: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<string> {
  const u = new URL(pathAndQuery, base);
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, agent: false, headers: { connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`${u.pathname}: HTTP ${res.statusCode} ${body.slice(0, 200)}`)),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${u.pathname}: no answer in ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}

type Row = { shards: number; kind: 'd1' | 'r2'; rate: number | null; acked: number; note: string; load: string };

/**
 * Appends `total` events over `shards` shards: IN_FLIGHT requests at a time (like busy isolates),
 * each 10 batches of 50 events. Bounded: a row still running after ROW_DEADLINE_S, or with a failed
 * request, is reported as not measured with its reason (never a hang, never a partial rate).
 */
async function drive(base: string, shards: number, kind: 'd1' | 'r2', total: number): Promise<Row> {
  const requests = Math.ceil(total / PER_REQUEST);
  const started = performance.now();
  const deadline = started + ROW_DEADLINE_S * 1000;
  let next = 0;
  let acked = 0;
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < requests && performance.now() < deadline) {
        next++;
        try {
          const left = Math.max(1000, Math.min(REQUEST_TIMEOUT_MS, deadline - performance.now()));
          const r = JSON.parse(await get(base, `/append?shards=${shards}&kind=${kind}&batches=${BATCHES}&size=50`, left)) as {
            events: number;
          };
          acked += r.events;
        } catch (err) {
          errors.push(err instanceof Error ? err.message : String(err));
        }
      }
    }),
  );
  if (kind === 'r2' && errors.length === 0) {
    try {
      await get(base, `/flush?shards=${shards}`, Math.max(1000, deadline - performance.now()));
    } catch (err) {
      errors.push(`flush: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const row: Row = { shards, kind, rate: null, acked, note: '', load: load() };
  if (errors.length > 0) row.note = `not measured: ${errors.length} of ${requests} requests failed (${errors[0]})`;
  else if (acked < requests * PER_REQUEST)
    row.note = `not measured: timed out after ${ROW_DEADLINE_S} s with ${acked} of ${requests * PER_REQUEST} events acknowledged`;
  else row.rate = acked / seconds;
  return row;
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

function rowText(r: Row): string {
  const what = r.kind === 'd1' ? 'D1 security events' : 'R2 archived events';
  return r.rate === null ? `${what}: ${r.note}` : `${what} ${r.rate.toFixed(0)}/s`;
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
  const rows: Row[] = [];
  try {
    const warm = await drive(base, 1, 'd1', PER_REQUEST);
    rows.push(warm);
    for (const shards of [1, 4, 16]) {
      const d1 = await drive(base, shards, 'd1', D1_EVENTS);
      const r2 = await drive(base, shards, 'r2', R2_EVENTS);
      rows.push(d1, r2);
      console.log(`shards=${shards}: ${rowText(d1)}, ${rowText(r2)}  [${r2.load}]`);
    }
    lines.push('| shards | D1 security events/s | R2 archived events/s | load (uptime, after the row) |', '|---|---|---|---|');
    for (let i = 1; i < rows.length; i += 2) {
      const d1 = rows[i] as Row;
      const r2 = rows[i + 1] as Row;
      const cell = (r: Row) => (r.rate === null ? r.note : r.rate.toFixed(0));
      lines.push(`| ${d1.shards} | ${cell(d1)} | ${cell(r2)} | ${r2.load} |`);
    }
    // Every acknowledged event must be in a verified chain (D1 rows or R2 segments of shards 0-15).
    const acked = rows.reduce((n, r) => n + r.acked, 0);
    const t = performance.now();
    try {
      const verified = JSON.parse(await get(base, '/verify?shards=16', 600_000)) as { checked: number; broken: unknown[] };
      const s = (performance.now() - t) / 1000;
      const complete = verified.checked === acked ? 'all acknowledged events present' : `MISMATCH: ${acked} events acknowledged`;
      const line = `verify in workerd (shards 0-15, D1 + R2): ${verified.checked} records in ${s.toFixed(1)} s (${(verified.checked / s).toFixed(0)}/s), broken: ${verified.broken.length}; ${complete}  [${load()}]`;
      console.log(line);
      lines.push('', line);
    } catch (err) {
      const line = `verify in workerd: not measured (${err instanceof Error ? err.message : String(err)})`;
      console.log(line);
      lines.push('', line);
    }
  } finally {
    server.stop();
  }
  await verifyPart(lines);
}

async function verifyPart(lines: string[]) {
  const m = await verifyMillion();
  const line = `verify ${VERIFY_EVENTS} archived events (${VERIFY_EVENTS / 5000} segments, Node, one core): ${m.verify_s.toFixed(1)} s = ${m.per_s.toFixed(0)} records/s; segments ${m.gz_mb.toFixed(1)} MB gzip (build ${m.build_s.toFixed(1)} s)  [${load()}]`;
  console.log(line);
  lines.push(line);
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, `bench/results/audit${process.env.BENCH_AUDIT_ONLY_VERIFY ? '-verify' : ''}.md`), lines.join('\n') + '\n');
}

await main();
