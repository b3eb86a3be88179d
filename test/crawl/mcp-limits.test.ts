/**
 * MCP tool calls under the HTTP rate limits (issue #18): through the real WebSocket relay and the
 * SSE message endpoint to the recording origin, a key's rate bucket (weight = URLs) and its
 * concurrency cap hold per tool call, refusals carry the retry time, and the origin sees only the
 * admitted calls.
 */
import { describe, expect, it } from 'vitest';
import { problem } from '../helpers/http';
import { openMcpSession } from '../helpers/mcp';
import { callAs, credentialFor, newRequestId, originSaw, originUrl } from '../helpers/principal';
import { waitForAuditRows } from '../helpers/audit';
import { sseAnswerReader } from '../../src/crawl/mcp-limits';

function toolCall(id: number, name: string, args: Record<string, unknown>) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

const uniqueKey = (label: string, extra: { rateLimit?: string; maxConcurrency?: number }) =>
  credentialFor({ id: `key_mcplim_${label}_${crypto.randomUUID().slice(0, 8)}`, permissions: ['crawl:run'], ...extra });

/** A client socket through the gateway, with an inbox read one message at a time. */
async function openSocket(credential: string, rid: string) {
  const res = await callAs(credential, '/mcp/ws', { headers: { Upgrade: 'websocket', 'X-Request-Id': rid } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  const inbox: unknown[] = [];
  const waiting: Array<(v: unknown) => void> = [];
  ws.addEventListener('message', (ev) => {
    const v = JSON.parse(String(ev.data));
    const w = waiting.shift();
    if (w) w(v);
    else inbox.push(v);
  });
  return {
    send: (m: unknown) => ws.send(JSON.stringify(m)),
    next: () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise<unknown>((resolve) => waiting.push(resolve))),
    close: () => ws.close(1000, 'done'),
  };
}

/** What the origin received over the socket opened with request id `rid`. */
async function originMessages(rid: string): Promise<Array<{ method?: string; id?: unknown }>> {
  const res = await fetch(`${originUrl()}/__ws?request_id=${encodeURIComponent(rid)}`);
  return ((await res.json()) as string[]).map((t) => JSON.parse(t));
}

describe('MCP over WebSocket under the rate limits', () => {
  it('a key limited to 6/minute: the upgrade costs 1, then 5 tool calls reach the origin and the rest are refused with retry_after', async () => {
    const key = uniqueKey('rate', { rateLimit: '6/minute' });
    const rid = newRequestId('mcpwsrate');
    const ws = await openSocket(key, rid);
    const answers: Array<Record<string, unknown>> = [];
    for (let i = 1; i <= 12; i++) {
      ws.send(toolCall(i, 'md', { url: `https://example.com/${i}` }));
      answers.push((await ws.next()) as Record<string, unknown>);
    }
    ws.close();
    const through = answers.filter((a) => 'echo' in a);
    const refused = answers.filter((a) => 'error' in a) as Array<{
      id: number;
      error: { code: number; data: { code: string; retry_after: number } };
    }>;
    expect(through.map((a) => a.id)).toEqual([1, 2, 3, 4, 5]);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.error.code).toBe(-32001);
      expect(r.error.data.code).toBe('rate_limited');
      expect(r.error.data.retry_after).toBeGreaterThanOrEqual(1);
      expect(r.error.data.retry_after).toBeLessThanOrEqual(60);
    }
    expect(refused[0]!.id).toBe(6);
    const calls = (await originMessages(rid)).filter((m) => m.method === 'tools/call');
    expect(calls.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
    // Audited like the HTTP 429 (one row per window: later refusals are aggregated).
    const rows = await waitForAuditRows(rid, 2);
    expect(rows.some((r) => r.action === 'rate_limited' && r.outcome === 'denied' && r.status === 429)).toBe(true);
  });

  it('a tool call weighs its URLs: a 3-URL crawl spends 3 of 6, so the next 3-URL call is refused', async () => {
    const key = uniqueKey('weight', { rateLimit: '6/minute' });
    const rid = newRequestId('mcpwsweight');
    const ws = await openSocket(key, rid); // 1 token
    const urls = (n: number) => ({ urls: ['https://example.com/a', 'https://example.com/b', 'https://example.com/c'].slice(0, n) });
    ws.send(toolCall(1, 'crawl', urls(3)));
    expect(await ws.next()).toHaveProperty('echo');
    ws.send(toolCall(2, 'crawl', urls(3)));
    expect(await ws.next()).toMatchObject({ id: 2, error: { data: { code: 'rate_limited' } } });
    ws.send(toolCall(3, 'crawl', urls(2)));
    expect(await ws.next()).toHaveProperty('echo');
    ws.close();
    expect((await originMessages(rid)).map((m) => m.id)).toEqual([1, 3]);
  });

  it('a concurrency cap of 2 holds for tool calls in flight; an answer frees its lease', async () => {
    const key = uniqueKey('conc', { maxConcurrency: 2 });
    const rid = newRequestId('mcpwsconc');
    const ws = await openSocket(key, rid);
    ws.send(toolCall(1, 'md', { url: 'https://hold.example/1' }));
    ws.send(toolCall(2, 'md', { url: 'https://hold.example/2' }));
    ws.send(toolCall(3, 'md', { url: 'https://example.com/3' }));
    expect(await ws.next()).toMatchObject({ id: 3, error: { code: -32001, data: { code: 'concurrency_limited', retry_after: 2 } } });
    // The origin answers call 1: its lease is released and the next call goes through.
    ws.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    expect(await ws.next()).toMatchObject({ id: 1, result: { released: true } });
    ws.send(toolCall(4, 'md', { url: 'https://example.com/4' }));
    expect(await ws.next()).toMatchObject({ id: 4, echo: expect.any(String) });
    ws.send(toolCall(5, 'md', { url: 'https://hold.example/5' })); // takes the freed slot (2 held: #2, #5)
    ws.send(toolCall(6, 'md', { url: 'https://example.com/6' }));
    expect(await ws.next()).toMatchObject({ id: 6, error: { data: { code: 'concurrency_limited' } } });
    ws.close();
    const calls = (await originMessages(rid)).filter((m) => m.method === 'tools/call');
    expect(calls.map((m) => m.id)).toEqual([1, 2, 4, 5]);
  });

  it('a 3 MB answer frees exactly its own lease: ids in the crawled text it carries free nothing', async () => {
    const key = uniqueKey('bigans', { maxConcurrency: 2 });
    const rid = newRequestId('mcpwsbig');
    const ws = await openSocket(key, rid);
    ws.send(toolCall(1, 'md', { url: 'https://hold.example/1' }));
    ws.send(toolCall(2, 'md', { url: 'https://hold.example/2' }));
    // The answer to call 1 carries page text that looks like answers to call 2, and its own id comes last.
    const decoys = 'page text {"jsonrpc":"2.0","id":2,"result":{}} [{"id":2}] \\"id\\":2 ';
    ws.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, pad: decoys } });
    const answer = (await ws.next()) as { id: number; result: { released: boolean; text: string } };
    expect(answer.id).toBe(1);
    expect(answer.result.text.length).toBeGreaterThan(3_000_000);
    ws.send(toolCall(3, 'md', { url: 'https://hold.example/3' })); // call 1's slot
    ws.send(toolCall(4, 'md', { url: 'https://example.com/4' })); // none left: call 2 still holds its own
    expect(await ws.next()).toMatchObject({ id: 4, error: { data: { code: 'concurrency_limited' } } });
    ws.close();
    const calls = (await originMessages(rid)).filter((m) => m.method === 'tools/call');
    expect(calls.map((m) => m.id)).toEqual([1, 2, 3]);
  });

  it('closing the socket releases its held leases: a plain HTTP crawl gets the slot back', async () => {
    const key = uniqueKey('close', { maxConcurrency: 1 });
    const ws = await openSocket(key, newRequestId('mcpwsclose'));
    ws.send(toolCall(1, 'md', { url: 'https://hold.example/1' }));
    ws.send(toolCall(2, 'md', { url: 'https://example.com/2' }));
    expect(await ws.next()).toMatchObject({ id: 2, error: { data: { code: 'concurrency_limited' } } });
    // The HTTP route shares the cap: /md is refused while the tool call holds the lease.
    const busy = await callAs(key, '/md', { json: { url: 'https://example.com/' } });
    expect(busy.status).toBe(429);
    expect((await problem(busy)).code).toBe('concurrency_limited');
    ws.close();
    let status = 429;
    for (let i = 0; i < 50 && status === 429; i++) {
      await scheduler.wait(20);
      status = (await callAs(key, '/md', { json: { url: 'https://example.com/' } })).status;
    }
    expect(status).toBe(200);
  });
});

describe('MCP over SSE (/mcp/messages) under the rate limits', () => {
  it('a key limited to 6/minute: opening the session costs 1, 5 tool calls reach the origin, the rest get 429 with Retry-After', async () => {
    const key = uniqueKey('sserate', { rateLimit: '6/minute' });
    const session = await openMcpSession(key);
    const statuses: number[] = [];
    const rids: string[] = [];
    let refusal: Response | null = null;
    for (let i = 1; i <= 8; i++) {
      const rid = newRequestId(`mcpsserate${i}`);
      rids.push(rid);
      const res = await callAs(key, `/mcp/messages/?session_id=${session}`, {
        json: toolCall(i, 'md', { url: `https://example.com/${i}` }),
        headers: { 'X-Request-Id': rid },
      });
      statuses.push(res.status);
      if (res.status === 429 && !refusal) refusal = res;
      else await res.body?.cancel();
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    const body = await problem(refusal!);
    expect(body.code).toBe('rate_limited');
    expect(Number(refusal!.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect(body.retry_after).toBeGreaterThanOrEqual(1);
    const seen = await Promise.all(rids.map((r) => originSaw(r)));
    expect(seen.filter(Boolean)).toHaveLength(5);
    const rows = await waitForAuditRows(rids[5]!);
    expect(rows).toEqual([expect.objectContaining({ action: 'rate_limited', outcome: 'denied', status: 429 })]);
  });

  it('a concurrency cap of 2 holds for SSE tool calls awaiting their answer', async () => {
    const key = uniqueKey('sseconc', { maxConcurrency: 2 });
    const session = await openMcpSession(key);
    const post = (id: number, rid: string) =>
      callAs(key, `/mcp/messages/?session_id=${session}`, {
        json: toolCall(id, 'md', { url: `https://example.com/${id}` }),
        headers: { 'X-Request-Id': rid },
      });
    expect((await post(1, newRequestId('sse1'))).status).toBe(202);
    expect((await post(2, newRequestId('sse2'))).status).toBe(202);
    const rid3 = newRequestId('sse3');
    const third = await post(3, rid3);
    expect(third.status).toBe(429);
    expect((await problem(third)).code).toBe('concurrency_limited');
    expect(third.headers.get('Retry-After')).toBe('2');
    expect(await originSaw(rid3)).toBeNull();
    // Reusing an id still in flight cannot share its lease (it would otherwise count once).
    const reused = await callAs(key, `/mcp/messages/?session_id=${session}`, { json: toolCall(1, 'md', { url: 'https://example.com/x' }) });
    expect(reused.status).toBe(422);
    // Messages without tool calls take no lease.
    const init = await callAs(key, `/mcp/messages/?session_id=${session}`, { json: { jsonrpc: '2.0', id: 9, method: 'tools/list' } });
    expect(init.status).toBe(202);
  });
});

describe('MCP over SSE: weights and answers', () => {
  it('a tool call weighs its URLs: with 6/minute, a 3-URL crawl passes, a second one is refused, 2 md calls pass', async () => {
    const key = uniqueKey('sseweight', { rateLimit: '6/minute' });
    const session = await openMcpSession(key); // 1 token
    const urls = ['https://example.com/a', 'https://example.com/b', 'https://example.com/c'];
    const post = (id: number, name: string, args: Record<string, unknown>) =>
      callAs(key, `/mcp/messages/?session_id=${session}`, { json: toolCall(id, name, args) });
    expect((await post(1, 'crawl', { urls })).status).toBe(202);
    const refused = await post(2, 'crawl', { urls });
    expect(refused.status).toBe(429);
    expect((await problem(refused)).code).toBe('rate_limited');
    expect((await post(3, 'md', { url: urls[0] })).status).toBe(202);
    expect((await post(4, 'md', { url: urls[1] })).status).toBe(202);
    expect((await post(5, 'md', { url: urls[2] })).status).toBe(429);
  });

  it("the answer on the SSE stream releases the call's lease (cap 1: the next call is admitted once the answer has been read)", async () => {
    const key = uniqueKey('sseanswer', { maxConcurrency: 1 });
    const res = await callAs(key, '/mcp/sse');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    };
    await readUntil('\n\n');
    const session = /session_id=([0-9a-f]+)/.exec(text)![1]!;
    const post = (id: number, url: string) => callAs(key, `/mcp/messages/?session_id=${session}`, { json: toolCall(id, 'md', { url }) });
    // A held call (no answer) keeps the only slot.
    expect((await post(1, 'https://hold.example/1')).status).toBe(202);
    expect((await post(2, 'https://example.com/2')).status).toBe(429);
    await reader.cancel();

    const key2 = uniqueKey('sseanswer2', { maxConcurrency: 1 });
    const res2 = await callAs(key2, '/mcp/sse');
    const reader2 = res2.body!.pipeThrough(new TextDecoderStream()).getReader();
    text = '';
    while (!text.includes('\n\n')) text += (await reader2.read()).value ?? '';
    const session2 = /session_id=([0-9a-f]+)/.exec(text)![1]!;
    const post2 = (id: number) =>
      callAs(key2, `/mcp/messages/?session_id=${session2}`, { json: toolCall(id, 'md', { url: `https://example.com/${id}` }) });
    expect((await post2(1)).status).toBe(202);
    while (!text.includes('"id":1')) text += (await reader2.read()).value ?? '';
    // The release is deferred (≤ RELEASE_FLUSH_MS); poll a bounded number of times.
    let status = 429;
    for (let i = 2; i < 50 && status === 429; i++) {
      await scheduler.wait(20);
      status = (await post2(i)).status;
    }
    expect(status).toBe(202);
    await reader2.cancel();
  });
});

describe('sseAnswerReader', () => {
  it('reports the ids of JSON-RPC answers split across chunks, not requests or other events', () => {
    const ids: string[] = [];
    const read = sseAnswerReader((id) => ids.push(id));
    read('event: endpoint\ndata: /mcp/messages/?session_id=ab\n\nevent: message\ndata: {"jsonrpc":"2.0","id":');
    read('7,"result":{}}\r\n\nevent: message\ndata: {"jsonrpc":"2.0","id":"x","method":"sampling/createMessage"}\n\n');
    read('data: [{"jsonrpc":"2.0","id":8,"error":{"code":1,"message":"m"}}]\n');
    expect(ids).toEqual(['7', '8']);
  });
});
