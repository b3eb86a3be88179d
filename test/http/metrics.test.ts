import { describe, expect, it } from 'vitest';
import { call, problem } from '../helpers/http';

describe('GET /metrics', () => {
  it('answers Prometheus text to an address inside METRICS_ALLOW_CIDRS (IPv4 and IPv6)', async () => {
    await call('/health');
    await call('/missing');
    for (const ip of ['10.1.2.3', '2001:db8::42']) {
      const res = await call('/metrics', { ip });
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toContain('text/plain; version=0.0.4');
      const text = await res.text();
      expect(text).toContain('# TYPE crawlgate_http_requests_total counter');
      expect(text).toMatch(/crawlgate_http_requests_total\{method="GET",route="\/health",status="200"\} \d+/);
      expect(text).toMatch(/crawlgate_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
      expect(text).toMatch(/crawlgate_http_request_duration_ms_bucket\{le="\+Inf",route="\/health"\} \d+/);
      expect(text).toContain('# TYPE crawlgate_auth_failures_total counter');
    }
  });

  it('asks any other address for credentials', async () => {
    const res = await call('/metrics', { ip: '10.2.0.1'.replace('10.2', '11.2') });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('invalid_credentials');
  });

  it('does not let X-Forwarded-For stand in for the client address', async () => {
    const res = await call('/metrics', { ip: '198.51.100.9', headers: { 'X-Forwarded-For': '10.1.2.3' } });
    expect(res.status).toBe(401);
  });

  it('counts authentication failures by reason', async () => {
    await call('/metrics', { ip: '198.51.100.9' });
    const text = await (await call('/metrics', { ip: '10.1.0.1' })).text();
    expect(text).toMatch(/crawlgate_auth_failures_total\{reason="missing_credential"\} [1-9]/);
  });
});
