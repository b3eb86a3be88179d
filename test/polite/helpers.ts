/** Shared by the polite-crawling tests: the fixture hosts (one port each), their logs, and callers. */
import { env } from 'cloudflare:workers';
import type { Arrival } from '../helpers/polite-server';
import { callAs, credentialFor, type CallAsOptions } from '../helpers/principal';

const PORTS = (env as unknown as { TEST_POLITE_PORTS: string }).TEST_POLITE_PORTS.split(',').map(Number);

/** Fixed host indices, one per scenario, so concurrently running files never share a host. */
export const HOSTS = {
  rules: 0,
  missing: 1,
  broken: 2,
  spacing: 3,
  backoff: 4,
  other: 5,
  bypass: 6,
  jobs: 7,
  redirect: 8,
  admin: 9,
  browser: 10,
  units: 11,
  batch: 12,
  batchBackoff: 13,
  batchRobots: 14,
} as const;

export function hostUrl(index: number, path = ''): string {
  return `http://127.0.0.1:${PORTS[index]}${path}`;
}

export interface HostSetup {
  robots?: { status?: number; body?: string; redirect?: string };
  /** Public keys the fixture verifies signatures with (from the gateway's directory). */
  jwks?: unknown[];
}

/** Resets a host: its robots.txt, its verification keys, its log. */
export async function setupHost(index: number, setup: HostSetup): Promise<void> {
  const res = await fetch(hostUrl(index, '/_setup'), { method: 'POST', body: JSON.stringify(setup) });
  if (res.status !== 204) throw new Error(`fixture setup answered ${res.status}`);
}

export async function hostLog(index: number): Promise<{ arrivals: Arrival[]; max_open: number }> {
  return (await fetch(hostUrl(index, '/_log'))).json();
}

/** Edge crawls of loopback fixtures: private targets allowed, no origin; pacing as given. */
export function edgeVars(extra: Record<string, string> = {}): NonNullable<CallAsOptions['vars']> {
  return { ORIGIN_URL: '', ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development', ...extra };
}

export const crawler = (id: string) => credentialFor({ id, permissions: ['crawl:run', 'jobs:write', 'jobs:read'] });

export interface PoliteResult {
  url: string;
  success: boolean;
  status_code: number | null;
  error_code?: string;
  error_message: string | null;
}

export async function crawl(
  credential: string,
  urls: string[],
  vars: Record<string, string>,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; results: PoliteResult[]; body: Record<string, unknown> }> {
  const res = await callAs(credential, '/crawl', { json: { urls, engine: 'fetch', ...extra }, vars });
  const body = await res.json<Record<string, unknown>>();
  return { status: res.status, results: (body.results as PoliteResult[] | undefined) ?? [], body };
}

/** The gateway's published keys (the fixture verifies with these, independently of the signer). */
export async function directoryKeys(): Promise<unknown[]> {
  const res = await callAs(null, '/.well-known/http-message-signatures-directory');
  return (await res.json<{ keys: unknown[] }>()).keys;
}
