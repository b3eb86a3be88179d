import { describe, expect, it } from 'vitest';
import { holdLeaseWhileStreaming } from '../../src/ratelimit/lease-body';

function setup() {
  let clock = 0;
  const events: string[] = [];
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const body = holdLeaseWhileStreaming(readable, {
    release: async () => void events.push('release'),
    renew: async () => void events.push(`renew@${clock}`),
    renewEveryMs: 100,
    background: (p) => void p,
    now: () => clock,
  });
  return { body, writer: writable.getWriter(), events, tick: (ms: number) => (clock += ms) };
}

const chunk = new TextEncoder().encode('x');

describe('holding a lease while a body streams', () => {
  it('renews every half TTL while chunks flow and releases once at the end', async () => {
    const { body, writer, events, tick } = setup();
    const reader = body.getReader();
    for (const wait of [50, 60, 40, 120]) {
      tick(wait);
      void writer.write(chunk); // resolves only once read (no buffering in between)
      expect((await reader.read()).value).toEqual(chunk);
    }
    void writer.close();
    expect((await reader.read()).done).toBe(true);
    await reader.cancel().catch(() => {});
    expect(events).toEqual(['renew@110', 'renew@270', 'release']);
  });

  it('releases once when the client cancels, and cancels the source', async () => {
    const { body, writer, events } = setup();
    await body.cancel('gone');
    await body.cancel('again').catch(() => {});
    expect(events).toEqual(['release']);
    await expect(writer.write(chunk)).rejects.toBeDefined();
  });
});
