/**
 * Per-isolate audit batching (src/audit/batch.ts): events queued by many requests reach the
 * AuditLog writer in few calls, in order, each exactly once; a full batch goes at once; a binding
 * never receives another binding's events; when the writer is unreachable the events are logged.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import type { Env } from '../../src/env';
import type { AuditEvent } from '../../src/audit/types';
import { AUDIT_BATCH_MAX, flushAuditQueue, queueAuditEvent } from '../../src/audit/batch';
import { makeEvent } from '../helpers/audit';

function recordingBinding(fail = false): { e: Env; calls: AuditEvent[][] } {
  const calls: AuditEvent[][] = [];
  const binding = {
    idFromName: (name: string) => (env as unknown as Env).AUDIT_LOG.idFromName(name),
    get: () => ({
      append: async (batch: AuditEvent[]) => {
        if (fail) throw new Error('object unreachable');
        calls.push([...batch]);
        return { first: 0, last: 0, stored: true };
      },
    }),
  } as unknown as Env['AUDIT_LOG'];
  return { e: { ...(env as unknown as Env), AUDIT_LOG: binding }, calls };
}

afterEach(() => vi.restoreAllMocks());

describe('audit batching per isolate', () => {
  it('sends the events of many requests in one call, in order, each once', async () => {
    const { e, calls } = recordingBinding();
    const events = Array.from({ length: 7 }, (_, i) => makeEvent({ action: 'crawl_requested', reason: `r${i}` }));
    await Promise.all(events.map((ev) => queueAuditEvent(e, ev)));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.map((ev) => ev.reason)).toEqual(events.map((ev) => ev.reason));
  });

  it('writes a full batch at once and the rest in the next call', async () => {
    const { e, calls } = recordingBinding();
    const events = Array.from({ length: AUDIT_BATCH_MAX + 5 }, () => makeEvent());
    await Promise.all(events.map((ev) => queueAuditEvent(e, ev)));
    expect(calls.map((c) => c.length)).toEqual([AUDIT_BATCH_MAX, 5]);
    expect(new Set(calls.flat().map((ev) => ev.request_id)).size).toBe(events.length);
  });

  it('keeps queues apart per AUDIT_LOG binding', async () => {
    const a = recordingBinding();
    const b = recordingBinding();
    await Promise.all([queueAuditEvent(a.e, makeEvent({ reason: 'a' })), queueAuditEvent(b.e, makeEvent({ reason: 'b' }))]);
    expect(a.calls.flat().map((ev) => ev.reason)).toEqual(['a']);
    expect(b.calls.flat().map((ev) => ev.reason)).toEqual(['b']);
  });

  it('logs a batch the writer cannot take (nothing dropped silently) and leaves the queue empty', async () => {
    const { e } = recordingBinding(true);
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void lines.push(String(line)));
    await Promise.all([queueAuditEvent(e, makeEvent({ reason: 'x1' })), queueAuditEvent(e, makeEvent({ reason: 'x2' }))]);
    const logged = lines.filter((l) => l.includes('AuditLog unreachable'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('x1');
    expect(logged[0]).toContain('x2');
    await flushAuditQueue(e); // nothing left behind
    expect(lines.filter((l) => l.includes('AuditLog unreachable'))).toHaveLength(1);
  });
});
