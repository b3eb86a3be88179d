/** Parse once: crawl bodies the strict reader refuses never reach a handler; /crawl/job's webhook is POST /jobs's. */
import { describe, expect, it } from 'vitest';
import { problem } from '../helpers/http';
import { callAs, credentialFor, newRequestId, originSaw } from '../helpers/principal';

const user = credentialFor({ id: 'key_strict_user', permissions: ['crawl:run', 'jobs:write', 'jobs:read'] });

async function send(path: string, body: string) {
  const rid = newRequestId('strict');
  const res = await callAs(user, path, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Request-Id': rid } });
  return { res, rid };
}

describe('strict JSON on crawl routes', () => {
  it.each([
    ['NaN', '/crawl', '{"urls":["https://example.com/"],"crawler_config":{"params":{"page_timeout":NaN}}}', 'syntax'],
    ['duplicate keys', '/md', '{"url":"https://example.com/","url":"http://169.254.169.254/"}', 'duplicate_key'],
    [
      'a number that does not round-trip',
      '/crawl/stream',
      '{"urls":["https://example.com/"],"crawler_config":{"params":{"page_timeout":1e400}}}',
      'number_out_of_range',
    ],
    [
      'an integer beyond 2^53',
      '/crawl/job',
      '{"urls":["https://example.com/"],"crawler_config":{"params":{"page_timeout":9007199254740993}}}',
      'number_out_of_range',
    ],
  ])('refuses %s with 400 invalid_json, nothing forwarded', async (_label, path, body, reason) => {
    const { res, rid } = await send(path, body);
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p).toMatchObject({ code: 'invalid_json', reason });
    expect(await originSaw(rid)).toBeNull();
  });

  it('answers a body nested 5,000 levels deep with 422, not 500', async () => {
    const body = `{"urls":["https://example.com/"],"crawler_config":{"params":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}}`;
    const { res, rid } = await send('/crawl', body);
    expect(res.status).toBe(422);
    expect((await problem(res)).code).toBe('validation_failed');
    expect(await originSaw(rid)).toBeNull();
  });

  it('POST /jobs reads its body strictly too', async () => {
    const { res } = await send('/jobs', '{"urls":["https://example.com/"],"urls":["http://127.0.0.1/"]}');
    expect(res.status).toBe(400);
  });
});

describe("POST /crawl/job on the gateway's jobs validates the webhook like POST /jobs", () => {
  it.each([
    ['an empty secret', { url: 'https://hooks.example.com/x', secret: '' }],
    ['a short secret', { url: 'https://hooks.example.com/x', secret: 'short' }],
    ['unknown events', { url: 'https://hooks.example.com/x', secret: 's'.repeat(40), events: ['everything'] }],
    ['a private URL', { url: 'http://169.254.169.254/', secret: 's'.repeat(40) }],
  ])('refuses %s (422)', async (_label, webhook) => {
    const { res } = await send('/crawl/job', JSON.stringify({ urls: ['https://example.com/'], engine: 'fetch', webhook }));
    expect(res.status).toBe(422);
  });

  it('accepts a valid webhook and creates a gateway job', async () => {
    const { res } = await send(
      '/crawl/job',
      JSON.stringify({
        urls: ['https://example.com/'],
        engine: 'fetch',
        webhook: { url: 'https://hooks.example.com/x', secret: 's'.repeat(40) },
      }),
    );
    expect(res.status).toBe(202);
    expect((await res.json<{ task_id: string }>()).task_id).toMatch(/^job_/);
  });

  it('refuses `webhook` on a task forwarded to the origin (use webhook_config)', async () => {
    const { res, rid } = await send(
      '/crawl/job',
      JSON.stringify({ urls: ['https://example.com/'], webhook: { url: 'https://hooks.example.com/x', secret: 's'.repeat(40) } }),
    );
    expect(res.status).toBe(422);
    expect(await originSaw(rid)).toBeNull();
  });
});
