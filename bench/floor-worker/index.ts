/**
 * The round-trip floor of crawlgate's API-key `POST /crawl` (docs/performance.md "The floor"): the
 * empty Worker (bench/empty-worker) plus exactly the storage round trips test/perf holds crawlgate
 * to — one KV read (the revocation marker) and one Durable Object call that reads and writes one
 * SQLite row (the key's rate bucket) — and nothing else: no validation, policy, audit, metering,
 * identity token or header hygiene. What this costs over the empty Worker is what crawlgate's
 * allowed path cannot go below locally, where KV and the object run in the same workerd process.
 */
import { DurableObject } from 'cloudflare:workers';
import { Hono } from 'hono';

export class Bucket extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tat REAL NOT NULL)');
  }

  /** One GCRA-like step: read the bucket, write it back. */
  admit(name: string, now: number): boolean {
    const row = this.ctx.storage.sql.exec<{ tat: number }>('SELECT tat FROM buckets WHERE name = ?', name).toArray()[0];
    const tat = Math.max(row?.tat ?? 0, now) + 2;
    this.ctx.storage.sql.exec(
      'INSERT INTO buckets (name, tat) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET tat = excluded.tat',
      name,
      tat,
    );
    return true;
  }
}

type Bindings = { ORIGIN_URL: string; BENCH_KEY: string; REVOCATIONS: KVNamespace; BUCKETS: DurableObjectNamespace<Bucket> };
const app = new Hono<{ Bindings: Bindings }>();

// `/kv-only/...` and `/do-only/...` make one of the two round trips, to tell their costs apart.
app.all('*', async (c) => {
  if (c.req.header('X-API-Key') !== c.env.BENCH_KEY) return c.json({ detail: 'unauthorized' }, 401);
  const url = new URL(c.req.url);
  const only = url.pathname.startsWith('/kv-only/') ? 'kv' : url.pathname.startsWith('/do-only/') ? 'do' : null;
  if (only !== 'do' && (await c.env.REVOCATIONS.get('revoked:key:bench')) !== null) return c.json({ detail: 'revoked' }, 401);
  if (only !== 'kv' && !(await c.env.BUCKETS.get(c.env.BUCKETS.idFromName('key:bench')).admit('key', Date.now())))
    return c.json({ detail: 'rate limited' }, 429);
  const target = new URL(url.pathname + url.search, c.env.ORIGIN_URL);
  return fetch(target, { method: c.req.method, headers: c.req.raw.headers, body: c.req.raw.body, redirect: 'manual' });
});

export default app;
