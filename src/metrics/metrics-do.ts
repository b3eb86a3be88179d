/** Durable Object holding the global metric series (one instance, name "global"). */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { Series } from './registry';

export class MetricsAggregator extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS series (key TEXT PRIMARY KEY, value REAL NOT NULL)');
  }

  /** Adds a batch of deltas. */
  add(deltas: Series): void {
    for (const [key, delta] of Object.entries(deltas)) {
      this.ctx.storage.sql.exec(
        'INSERT INTO series (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = value + excluded.value',
        key,
        delta,
      );
    }
  }

  /** All series with their totals. */
  snapshot(): Series {
    const out: Series = {};
    for (const row of this.ctx.storage.sql.exec<{ key: string; value: number }>('SELECT key, value FROM series')) out[row.key] = row.value;
    return out;
  }
}
