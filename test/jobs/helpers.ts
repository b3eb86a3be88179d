/** Shared by the jobs tests: submit, poll until a condition, read the fixture site's hit counters. */
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { callAs, type CallAsOptions } from '../helpers/principal';
import type { JobSnapshot } from '../../src/jobs/job-snapshot';

/** Jobs crawl the loopback fixture site, so they are created with private targets allowed. */
export const DEV: CallAsOptions['vars'] = { ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'test' };

export function siteUrl(path: string): string {
  return `${(env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL}${path}`;
}

export function runUrls(run: string, n: number, delayMs = 0): string[] {
  return Array.from({ length: n }, (_, i) => siteUrl(`/p/${run}/${i}${delayMs ? `?ms=${delayMs}` : ''}`));
}

export function newRun(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Rows recorded in D1 for a job. */
export async function recordedRows(
  id: string,
): Promise<{ idx: number; url: string; success: number; attempts: number; error: string | null; status_code: number | null }[]> {
  return (
    await env.DB.prepare('SELECT idx, url, success, attempts, error, status_code FROM job_results WHERE job_id = ? ORDER BY idx')
      .bind(id)
      .all<{ idx: number; url: string; success: number; attempts: number; error: string | null; status_code: number | null }>()
  ).results;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function submit(credential: string, body: Record<string, unknown>): Promise<string> {
  const res = await callAs(credential, '/jobs', { json: body, vars: DEV });
  if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${await res.text()}`);
  return (await res.json<{ job_id: string }>()).job_id;
}

export async function status(credential: string, id: string): Promise<JobSnapshot> {
  const res = await callAs(credential, `/jobs/${id}`);
  expect(res.status).toBe(200);
  return res.json<JobSnapshot>();
}

/** Polls GET /jobs/{id} until `done(snapshot)`; fails with the last snapshot after `timeoutMs`. */
export async function waitFor(credential: string, id: string, done: (s: JobSnapshot) => boolean, timeoutMs = 60_000): Promise<JobSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: JobSnapshot | null = null;
  while (Date.now() < deadline) {
    last = await status(credential, id);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`job ${id} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

export const finished = (s: JobSnapshot) => s.status === 'completed' || s.status === 'failed' || s.status === 'cancelled';

/** Requests the fixture site saw per path under `prefix`. */
export async function hits(prefix: string): Promise<Record<string, number>> {
  return (await fetch(siteUrl(`/hits?prefix=${encodeURIComponent(prefix)}`))).json();
}
