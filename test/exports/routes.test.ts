import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DOCUMENT_FIELDS, DEFAULT_TABLE_FIELDS, fieldValue } from '../../src/exports/fields';
import type { ExportCompression, ExportFormat } from '../../src/exports/formats';
import { documentSafe, markdownBlockText } from '../../src/exports/text';
import { verifyWebhookSignature } from '../../src/webhooks/sign';
import { problem } from '../helpers/http';
import { originSaw, originUrl } from '../helpers/principal';
import { callAs, credentialFor, jobs } from './app';
import {
  bytesOf,
  decompress,
  expectedCsvCell,
  expectLossless,
  hostileRecord,
  parseCsvText,
  parseHtmlExport,
  parseMarkdownExport,
  sha256Hex,
  td,
} from './fixtures';

const alice = credentialFor({ id: 'usr_alice', name: 'alice', permissions: ['jobs:read', 'jobs:write'] });
const aliceKey = credentialFor({ id: 'key_alice1', kind: 'key', owner: 'usr_alice', permissions: ['jobs:read'] });
const mallory = credentialFor({ id: 'usr_mallory', name: 'mallory', permissions: ['jobs:read', 'jobs:write'] });
const readOnly = credentialFor({ id: 'usr_reader', name: 'alice', permissions: ['jobs:read'] });
const noJobs = credentialFor({ id: 'usr_nojobs', name: 'alice', permissions: ['crawl:run'] });

const BIG = Array.from({ length: 1000 }, (_, i) => hostileRecord(i, i === 500));
jobs.set('job-big', { tenant: 'usr_alice', records: BIG });
jobs.set('job-small', { tenant: 'usr_alice', records: BIG.slice(0, 30) });
jobs.set('job-mixed', {
  tenant: 'usr_alice',
  records: [hostileRecord(1), { url: 'https://bad.example', success: 'no' }, hostileRecord(2), 'not a record'],
});
// A store that breaks midway (e.g. D1 down): record 5 cannot be read.
const base = BIG.slice(0, 10);
jobs.set('job-broken', {
  tenant: 'usr_alice',
  records: new Proxy(base, {
    get: (t, p, r) => {
      if (p === '5') throw new Error('results store unavailable');
      return Reflect.get(t, p, r);
    },
  }),
});
jobs.set('job-mallory', { tenant: 'usr_mallory', records: BIG.slice(0, 3) });

describe('GET /jobs/{id}/export', () => {
  const cases: [ExportFormat, Exclude<ExportCompression, 'none'>][] = [
    ['json', 'gzip'],
    ['ndjson', 'gzip'],
    ['csv', 'gzip'],
    ['xml', 'deflate'],
    ['markdown', 'gzip'],
    ['html', 'deflate'],
  ];
  for (const [format, compression] of cases) {
    it(`streams a 1,000-record hostile job as ${format} + ${compression}; decompressed and parsed back losslessly`, async () => {
      const res = await callAs(alice, `/jobs/job-big/export?format=${format}&compression=${compression}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe(compression === 'gzip' ? 'application/gzip' : 'application/zlib');
      expect(res.headers.get('Content-Encoding')).toBeNull();
      const ext = { json: 'json', ndjson: 'ndjson', csv: 'csv', xml: 'xml', markdown: 'md', html: 'html' }[format];
      expect(res.headers.get('Content-Disposition')).toBe(
        `attachment; filename="job-job-big.${ext}.${compression === 'gzip' ? 'gz' : 'zz'}"`,
      );
      const text = td(await decompress(await bytesOf(res.body!), compression));
      expectLossless(format, text, BIG);
    });
  }

  it('sends uncompressed formats with their own media types; HTML with a sandboxing CSP', async () => {
    const types: Record<string, string> = {
      json: 'application/json; charset=utf-8',
      ndjson: 'application/x-ndjson; charset=utf-8',
      csv: 'text/csv; charset=utf-8; header=present',
      xml: 'application/xml; charset=utf-8',
      markdown: 'text/markdown; charset=utf-8; variant=CommonMark',
      html: 'text/html; charset=utf-8',
    };
    for (const [format, type] of Object.entries(types)) {
      const res = await callAs(alice, `/jobs/job-small/export?format=${format}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe(type);
      expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
      const csp = res.headers.get('Content-Security-Policy')!;
      expect(csp).toMatch(/^default-src 'none'/);
      if (format === 'html') expect(csp).toContain('sandbox');
      expectLossless(format as ExportFormat, td(await bytesOf(res.body!)), BIG.slice(0, 30));
    }
  });

  it('selects nested fields for CSV', async () => {
    const res = await callAs(alice, '/jobs/job-small/export?format=csv&fields=url,markdown.raw_markdown,metadata.title');
    const rows = parseCsvText(td(await bytesOf(res.body!)));
    expect(rows[0]).toEqual(['url', 'markdown.raw_markdown', 'metadata.title']);
    expect(rows[1]).toEqual(['url', 'markdown.raw_markdown', 'metadata.title'].map((f) => expectedCsvCell(fieldValue(BIG[0], f))));
    expect(rows[1]![1]).toContain('<script>alert(1)</script>');
  });

  it("answers 404 for another tenant's job exactly as for a missing one", async () => {
    const other = await callAs(mallory, '/jobs/job-big/export?format=json');
    const missing = await callAs(mallory, '/jobs/job-nope/export?format=json');
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    const [a, b] = [await problem(other), await problem(missing)];
    expect(a.code).toBe('not_found');
    expect(a.detail).toBe(b.detail);
  });

  it("lets a key act for its owner's jobs (tenantOf)", async () => {
    const res = await callAs(aliceKey, '/jobs/job-small/export?format=ndjson');
    expect(res.status).toBe(200);
    await res.body!.cancel();
  });

  it('needs jobs:read (403) and a credential (401)', async () => {
    expect((await callAs(noJobs, '/jobs/job-small/export')).status).toBe(403);
    expect((await callAs(null, '/jobs/job-small/export')).status).toBe(401);
  });

  it('refuses unknown formats, compressions and malformed field paths with 422', async () => {
    for (const q of ['format=pdf', 'compression=br', 'fields=url,__proto__..x', 'fields=a%20b']) {
      const res = await callAs(alice, `/jobs/job-small/export?${q}`);
      expect(res.status).toBe(422);
      expect((await problem(res)).code).toBe('validation_failed');
    }
  });
});

describe('POST /exports → GET /exports/{id} → download', () => {
  it('stores a gzip export in R2 with a manifest whose checksum matches the downloaded bytes', async () => {
    const res = await callAs(alice, '/exports', { json: { job_id: 'job-big', format: 'ndjson', compression: 'gzip' } });
    expect(res.status).toBe(202);
    const { export_id, status } = await res.json<{ export_id: string; status: string }>();
    expect(status).toBe('pending');
    expect(res.headers.get('Location')).toBe(`/exports/${export_id}`);

    const info = await (await callAs(alice, `/exports/${export_id}`)).json<{
      status: string;
      download_url: string;
      manifest: Record<string, unknown>;
    }>();
    expect(info.status).toBe('completed');
    expect(info.manifest).toMatchObject({
      export_id,
      job_id: 'job-big',
      format: 'ndjson',
      compression: 'gzip',
      fields: null,
      records: 1000,
      invalid: 0,
      media_type: 'application/gzip',
    });
    expect(Date.parse(info.manifest.created_at as string)).not.toBeNaN();

    const dl = await callAs(alice, info.download_url);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('Content-Type')).toBe('application/gzip');
    expect(dl.headers.get('Content-Encoding')).toBeNull();
    const bytes = await bytesOf(dl.body!);
    expect(bytes.byteLength).toBe(info.manifest.bytes);
    expect(Number(dl.headers.get('Content-Length'))).toBe(bytes.byteLength);
    expect(await sha256Hex(bytes)).toBe(info.manifest.sha256);
    const digest = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))));
    expect(dl.headers.get('Repr-Digest')).toBe(`sha-256=:${digest}:`);
    expectLossless('ndjson', td(await decompress(bytes, 'gzip')), BIG);

    const row = await env.DB.prepare('SELECT tenant, status, r2_key FROM exports WHERE id = ?')
      .bind(export_id)
      .first<{ tenant: string; status: string; r2_key: string }>();
    expect(row).toEqual({ tenant: 'usr_alice', status: 'completed', r2_key: `exports/${export_id}/${export_id}.ndjson.gz` });
  });

  it('reports invalid records by index and reason in the manifest and writes only the valid ones', async () => {
    const { export_id } = await (
      await callAs(alice, '/exports', { json: { job_id: 'job-mixed', format: 'json', compression: 'none', fields: ['url', 'success'] } })
    ).json<{ export_id: string }>();
    const info = await (await callAs(alice, `/exports/${export_id}`)).json<{
      manifest: { records: number; invalid: number; invalid_records: { index: number; reason: string }[]; fields: string[] };
    }>();
    expect(info.manifest.records).toBe(2);
    expect(info.manifest.invalid).toBe(2);
    expect(info.manifest.fields).toEqual(['url', 'success']);
    expect(info.manifest.invalid_records.map((r) => r.index)).toEqual([1, 3]);
    expect(info.manifest.invalid_records[0]!.reason).toContain('success');
    const body = JSON.parse(td(await bytesOf((await callAs(alice, `/exports/${export_id}/download`)).body!)));
    expect(body).toEqual([hostileRecord(1), hostileRecord(2)].map((r) => ({ url: r.url, success: r.success })));
  });

  it('marks the export failed (generic error, 409 on download) when the results store breaks midway', async () => {
    const { export_id } = await (
      await callAs(alice, '/exports', { json: { job_id: 'job-broken', format: 'ndjson', compression: 'gzip' } })
    ).json<{ export_id: string }>();
    const info = await (await callAs(alice, `/exports/${export_id}`)).json<{
      status: string;
      error: string;
      manifest: unknown;
      download_url: unknown;
    }>();
    expect(info).toMatchObject({
      status: 'failed',
      error: 'The export could not be completed; try again',
      manifest: null,
      download_url: null,
    });
    const dl = await callAs(alice, `/exports/${export_id}/download`);
    expect(dl.status).toBe(409);
    expect(await env.RESULTS.head(`exports/${export_id}/${export_id}.ndjson.gz`)).toBeNull();
  });

  it("hides another tenant's exports (404) and refuses exporting another tenant's job (404)", async () => {
    const { export_id } = await (
      await callAs(alice, '/exports', { json: { job_id: 'job-small', format: 'csv', compression: 'none' } })
    ).json<{ export_id: string }>();
    expect((await callAs(mallory, `/exports/${export_id}`)).status).toBe(404);
    expect((await callAs(mallory, `/exports/${export_id}/download`)).status).toBe(404);
    expect((await callAs(mallory, '/exports/exp_000000000000000000000000')).status).toBe(404);
    const steal = await callAs(mallory, '/exports', { json: { job_id: 'job-big', format: 'json', compression: 'none' } });
    expect(steal.status).toBe(404);
    expect((await callAs(aliceKey, `/exports/${export_id}`)).status).toBe(200);
  });

  it('needs jobs:write to create an export (403) and refuses unknown body fields (422)', async () => {
    expect((await callAs(readOnly, '/exports', { json: { job_id: 'job-small', format: 'json', compression: 'none' } })).status).toBe(403);
    const res = await callAs(alice, '/exports', {
      json: { job_id: 'job-small', format: 'json', compression: 'none', tenant: 'usr_mallory' },
    });
    expect(res.status).toBe(422);
  });

  it('refuses a webhook to a private address unless ALLOW_PRIVATE_TARGETS (422 url_not_allowed)', async () => {
    const res = await callAs(alice, '/exports', {
      json: {
        job_id: 'job-small',
        format: 'json',
        compression: 'none',
        webhook_url: 'http://169.254.169.254/latest',
        webhook_secret: 'x'.repeat(32),
      },
    });
    expect(res.status).toBe(422);
    expect((await problem(res)).code).toBe('url_not_allowed');
    const noSecret = await callAs(alice, '/exports', {
      json: { job_id: 'job-small', format: 'json', compression: 'none', webhook_url: 'https://hooks.example.com/x' },
    });
    expect(noSecret.status).toBe(422);
  });

  it('calls the webhook on completion with an HMAC-SHA-256 signature over timestamp.body', async () => {
    const secret = 'whsec_test_0123456789abcdef0123456789abcdef';
    const requestId = `test-export-webhook-${crypto.randomUUID()}`;
    const res = await callAs(alice, '/exports', {
      json: {
        job_id: 'job-small',
        format: 'csv',
        compression: 'deflate',
        webhook_url: `${originUrl()}/mcp/messages/`,
        webhook_secret: secret,
      },
      headers: { 'X-Request-Id': requestId },
      vars: { ALLOW_PRIVATE_TARGETS: 'true' },
    });
    expect(res.status).toBe(202);
    const { export_id } = await res.json<{ export_id: string }>();
    const seen = await originSaw(requestId);
    expect(seen).not.toBeNull();
    expect(seen!.method).toBe('POST');
    const event = JSON.parse(seen!.body) as {
      type: string;
      data: { export_id: string; status: string; manifest: { sha256: string; records: number } };
    };
    expect(event.type).toBe('export.completed');
    expect(event.data).toMatchObject({ export_id, status: 'completed', manifest: { records: 30 } });
    const headers = {
      timestamp: seen!.headers['x-crawlgate-timestamp'] as string,
      signature: seen!.headers['x-crawlgate-signature'] as string,
    };
    expect(await verifyWebhookSignature(secret, seen!.body, headers, Date.now())).toBe(true);
    expect(await verifyWebhookSignature('another-secret-another-secret-1234', seen!.body, headers, Date.now())).toBe(false);
    expect(await verifyWebhookSignature(secret, seen!.body.replace('completed', 'failed'), headers, Date.now())).toBe(false);
    const info = await (await callAs(alice, `/exports/${export_id}`)).json<{ webhook_status: string; manifest: { sha256: string } }>();
    expect(info.webhook_status).toBe('delivered');
    expect(event.data.manifest.sha256).toBe(info.manifest.sha256);
    const row = await env.DB.prepare('SELECT * FROM exports WHERE id = ?').bind(export_id).first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(secret);
  });
});
