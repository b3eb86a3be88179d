/** Calls the real Worker (its default export's fetch, through workerd) the way a client would. */
import { exports } from 'cloudflare:workers';
import { BASE } from './test-vars';

export interface CallOptions extends RequestInit {
  json?: unknown;
  ip?: string;
}

export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  let body = options.body;
  if (options.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(options.json);
  }
  if (options.ip) headers.set('CF-Connecting-IP', options.ip);
  const url = path.startsWith('http') ? path : BASE + path;
  return (exports as unknown as { default: Fetcher }).default.fetch(url, { ...options, headers, body, redirect: 'manual' });
}

/** Parses a problem+json body and checks its shape. */
export async function problem(
  res: Response,
): Promise<{ code: string; detail: string; status: number; request_id: string; [k: string]: unknown }> {
  if (!res.headers.get('Content-Type')?.startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${res.headers.get('Content-Type')} (${res.status}): ${await res.text()}`);
  }
  return res.json();
}
