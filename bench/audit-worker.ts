/**
 * The Worker `npm run bench:audit` drives (bench/audit.ts): the real `AuditLog` objects, D1 and R2
 * with local state, and three endpoints — append a load of events over N shards (grouped by the
 * tenant's shard as src/audit/writer.ts does, every batch in parallel like many isolates), close
 * the open R2 windows, and verify the shards' D1 and R2 chains. Bench-only: never deployed.
 */
import type { Env } from '../src/env';
import type { AuditEvent } from '../src/audit/types';
import { AuditLog } from '../src/audit/audit-log-do';
import { shardOf } from '../src/audit/shards';
import { auditShardStub } from '../src/audit/writer';
import { verifyD1Stream, verifyR2Stream } from '../src/audit/verify';

export { AuditLog };

function event(run: string, i: number, kind: string): AuditEvent {
  return {
    ts: Date.now(),
    request_id: `bench-${run}-${i}`,
    actor_id: `usr_bench_${i % 1024}`,
    actor_kind: 'user',
    actor_name: null,
    ip: '203.0.113.9',
    method: 'POST',
    route: '/crawl',
    action: kind === 'r2' ? 'crawl_requested' : 'permission_denied',
    outcome: kind === 'r2' ? 'success' : 'denied',
    reason: kind === 'r2' ? null : 'bench',
    status: kind === 'r2' ? 200 : 403,
    details: JSON.stringify({ urls: 1, engine: 'fetch' }),
  };
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const u = new URL(req.url);
    const n = Number(u.searchParams.get('shards') ?? '1');
    if (u.pathname === '/health') return new Response('ok');
    if (u.pathname === '/append') {
      const batches = Number(u.searchParams.get('batches') ?? '10');
      const size = Number(u.searchParams.get('size') ?? '50');
      const kind = u.searchParams.get('kind') ?? 'd1';
      const run = crypto.randomUUID().slice(0, 8);
      // One isolate's batches, one after another; each batch goes to its shards in parallel (as
      // src/audit/writer.ts does); concurrency comes from several requests (bench/audit.ts), each
      // on its own connection (docs/scale.md "The local stall").
      for (let b = 0; b < batches; b++) {
        const groups = new Map<number, AuditEvent[]>();
        for (let i = 0; i < size; i++) {
          const e = event(run, b * size + i + Math.floor(Math.random() * 1024), kind);
          const s = shardOf(e.actor_id, n);
          groups.set(s, [...(groups.get(s) ?? []), e]);
        }
        await Promise.all([...groups].map(([s, g]) => auditShardStub(env, s).append(g, s)));
      }
      return Response.json({ events: batches * size });
    }
    if (u.pathname === '/flush') {
      await Promise.all(Array.from({ length: n }, (_, s) => auditShardStub(env, s).flushArchive(s)));
      return Response.json({ ok: true });
    }
    if (u.pathname === '/verify') {
      let checked = 0;
      const broken: unknown[] = [];
      for (let s = 0; s < n; s++) {
        const a = await auditShardStub(env, s).anchors(s);
        for (const stream of ['d1', 'r2'] as const) {
          const anchors = { pruned: a[stream].pruned, head: a[stream].head, signed: null };
          const budget = { left: 10_000_000, after: 0 };
          const r =
            stream === 'd1' ? await verifyD1Stream(env.DB, s, anchors, budget) : await verifyR2Stream(env.RESULTS, s, anchors, budget);
          checked += r.checked;
          if (r.broken) broken.push(r.broken);
        }
      }
      return Response.json({ checked, broken });
    }
    return new Response('not found', { status: 404 });
  },
};
