/** Crawl decisions reach the audit log: allowed crawls and refused targets, with counts, never URLs' secrets. */
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor } from '../helpers/principal';
import { waitForAuditRows } from '../helpers/audit';

describe('audit rows for crawl requests', () => {
  const key = credentialFor({ id: 'key_audit_crawl', permissions: ['crawl:run'] });

  it('records crawl_requested for a forwarded crawl, with the principal and the URL count', async () => {
    const rid = `crawl-audit-${crypto.randomUUID()}`;
    const res = await callAs(key, '/crawl', {
      json: { urls: ['https://example.com/a', 'https://example.com/b'] },
      headers: { 'X-Request-Id': rid },
    });
    expect(res.status).toBe(200);
    const rows = await waitForAuditRows(rid);
    const row = rows.find((r) => r.action === 'crawl_requested');
    expect(row).toMatchObject({ actor_id: 'key_audit_crawl', actor_kind: 'key', outcome: 'success', route: '/crawl' });
    expect(JSON.parse(row?.details ?? '{}')).toMatchObject({ urls: 2 });
  });

  it('records the refusal of a code-running field without crawl:js', async () => {
    const rid = `crawl-audit-js-${crypto.randomUUID()}`;
    const res = await callAs(key, '/crawl', {
      json: { urls: ['https://example.com/'], crawler_config: { type: 'CrawlerRunConfig', params: { js_code: 'alert(1)' } } },
      headers: { 'X-Request-Id': rid },
    });
    expect(res.status).toBe(403);
    const rows = await waitForAuditRows(rid);
    expect(rows.map((r) => r.action)).toContain('permission_denied');
    expect(JSON.stringify(rows)).not.toContain('alert(1)');
  });
});
