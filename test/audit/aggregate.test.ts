/** Floods of denials fold into one audit row per client, reason and window (src/audit/aggregate.ts). */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { call } from '../helpers/http';
import { DENIAL_AUDIT_WINDOW_MS, denialAuditDecision } from '../../src/audit/aggregate';

describe('denial aggregation', () => {
  it('writes the first failed authentication of an address and folds the rest of the window into it', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 20}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call('/auth/me', { headers: { 'X-API-Key': 'cg_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAxxxxxx' }, ip });
      expect(res.status).toBe(401);
      ids.push(res.headers.get('X-Request-Id')!);
    }
    await new Promise((r) => setTimeout(r, 300));
    const rows = (
      await env.DB.prepare(`SELECT request_id FROM audit_events WHERE action = 'auth_failed' AND ip = ?`)
        .bind(ip)
        .all<{ request_id: string }>()
    ).results;
    expect(rows.map((r) => r.request_id)).toEqual([ids[0]]);
  });

  it('carries the number of folded denials on the next row after the window', () => {
    const key = `k-${crypto.randomUUID()}`;
    expect(denialAuditDecision(key, 1000)).toEqual({ write: true, suppressed: 0 });
    for (let i = 1; i <= 3; i++) expect(denialAuditDecision(key, 1000 + i).write).toBe(false);
    expect(denialAuditDecision(key, 1000 + DENIAL_AUDIT_WINDOW_MS + 1)).toEqual({ write: true, suppressed: 3 });
  });
});
