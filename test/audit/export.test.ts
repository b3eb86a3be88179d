import { describe, expect, it, beforeAll } from 'vitest';
import { csvField } from '../../src/audit/export';
import { auditTestApp, callApp, makeEvent, seedEvents, userPrincipal } from '../helpers/audit';

const RUN = crypto.randomUUID().slice(0, 8);
const admin = userPrincipal(`admin-${RUN}`, ['admin']);
const viewer = userPrincipal(`viewer-${RUN}`, ['viewer']);
const app = auditTestApp({ 'admin-cred': admin, 'viewer-cred': viewer });
const actor = `usr_export_${RUN}`;
const NASTY = 'mallory\r\n"quoted", <b>bold</b>\nnext';
const FORMULA = '=HYPERLINK("http://evil.example","click")';

/** A strict RFC 4180 parser (CRLF records, quoted fields with doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      row.push(field);
      field = '';
      i++;
      continue;
    }
    if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
      continue;
    }
    if (ch === '\n' || ch === '\r' || ch === '"') throw new Error(`bare ${JSON.stringify(ch)} at ${i}`);
    field += ch;
    i++;
  }
  if (field !== '' || row.length) throw new Error('last record not terminated by CRLF');
  return rows;
}

beforeAll(async () => {
  await seedEvents([
    makeEvent({
      actor_id: actor,
      actor_name: NASTY,
      action: 'login_failed',
      outcome: 'denied',
      reason: 'bad_password',
      details: JSON.stringify({ note: 'a,b' }),
    }),
    makeEvent({ actor_id: actor, actor_name: FORMULA, action: 'key_created', outcome: 'success', reason: '+SUM(A1:A2)' }),
    makeEvent({ actor_id: actor, actor_name: '@cmd', action: 'logout', outcome: 'success', reason: '-1+1' }),
    makeEvent({ actor_id: viewer.id, actor_name: viewer.name, action: 'login_succeeded', outcome: 'success' }),
  ]);
});

describe('GET /admin/audit/export', () => {
  it('streams NDJSON that parses back to the stored values, CR/LF and HTML included', async () => {
    const { res, text } = await callApp(app, `/admin/audit/export?format=ndjson&actor=${actor}`, { credential: 'admin-cred' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('Content-Disposition')).toMatch(/^attachment; filename="audit-.*\.ndjson"$/);
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    const rows = lines.slice(0, -1).map((l) => JSON.parse(l));
    expect(rows.map((r) => r.action)).toEqual(['logout', 'key_created', 'login_failed']);
    expect(rows[2]).toMatchObject({ actor_name: NASTY, reason: 'bad_password', details: { note: 'a,b' } });
    expect(rows[1].actor_name).toBe(FORMULA);
  });

  it('streams RFC 4180 CSV with a header, CRLF records and formulas neutralised', async () => {
    const { res, text } = await callApp(app, `/admin/audit/export?format=csv&actor=${actor}`, { credential: 'admin-cred' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/csv/);
    const [header, ...records] = parseCsv(text);
    expect(header?.slice(0, 4)).toEqual(['id', 'ts', 'time', 'request_id']);
    const col = (name: string) => (header as string[]).indexOf(name);
    expect(records).toHaveLength(3);
    const byAction = Object.fromEntries(records.map((r) => [r[col('action')], r]));
    expect(byAction.login_failed?.[col('actor_name')]).toBe(NASTY);
    expect(JSON.parse(byAction.login_failed?.[col('details')] ?? '')).toEqual({ note: 'a,b' });
    expect(byAction.key_created?.[col('actor_name')]).toBe(`'${FORMULA}`);
    expect(byAction.key_created?.[col('reason')]).toBe("'+SUM(A1:A2)");
    expect(byAction.logout?.[col('actor_name')]).toBe("'@cmd");
    expect(byAction.logout?.[col('reason')]).toBe("'-1+1");
    expect(Number(byAction.logout?.[col('status')])).toBe(200);
    expect(records.every((r) => r.length === header?.length)).toBe(true);
  });

  it("exports only a viewer's own events", async () => {
    const { res, text } = await callApp(app, `/admin/audit/export?format=ndjson`, { credential: 'viewer-cred' });
    expect(res.status).toBe(200);
    const rows = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.actor_id === viewer.id)).toBe(true);
  });

  it('pages through more rows than one D1 page without losing or repeating any', async () => {
    const many = `usr_many_${RUN}`;
    await seedEvents(Array.from({ length: 1203 }, (_, i) => makeEvent({ actor_id: many, ts: 1_700_000_000_000 + i, reason: `n${i}` })));
    const { text } = await callApp(app, `/admin/audit/export?format=ndjson&actor=${many}`, { credential: 'admin-cred' });
    const reasons = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).reason as string);
    expect(reasons).toHaveLength(1203);
    expect(new Set(reasons).size).toBe(1203);
    expect(reasons[0]).toBe('n1202');
  });

  it('records who exported, as an audit_exported row', async () => {
    const { res } = await callApp(app, `/admin/audit/export?format=csv&actor=usr_nobody`, {
      credential: 'admin-cred',
      headers: { 'X-Request-Id': `req-export-${RUN}` },
    });
    expect(res.status).toBe(200);
    const { text } = await callApp(app, `/admin/audit?action=audit_exported&actor=${admin.id}`, { credential: 'admin-cred' });
    expect(JSON.parse(text).events[0]).toMatchObject({
      request_id: `req-export-${RUN}`,
      outcome: 'success',
      details: { format: 'csv', own_only: false },
    });
  });
});

describe('csvField', () => {
  it('quotes per RFC 4180 and guards formula starts', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a"b')).toBe('"a""b"');
    expect(csvField('a\r\nb')).toBe('"a\r\nb"');
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('\t=cmd')).toBe("'\t=cmd");
    expect(csvField(-5)).toBe('-5');
    expect(csvField(null)).toBe('');
  });
});
