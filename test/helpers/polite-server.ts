/**
 * Target sites for the polite-crawling tests (Node http, 127.0.0.1): several listeners, one per
 * "host" (a host is host:port), each with its own robots.txt and its own arrival log. The log is
 * the evidence: which paths arrived, when (ms), how many requests were open at once, and whether
 * each request's Web Bot Auth signature verifies. Verification here is an independent RFC 9421
 * implementation (signature base built by hand, Ed25519 via node:crypto), not the signing library.
 *
 * Control (called by the test directly, never through the gateway):
 *   POST /_setup {"robots": {"status": 200, "body": "..."} | {"status": 404} | {"redirect": "/x"}, "jwks": [...]}
 *   GET  /_log → {"arrivals": [...], "max_open": n}
 * Pages: /page/<n>[?ms=D] (HTML after D ms), /rl/<key>?retry_after=S (429 with Retry-After the first time, then a page).
 */
import http from 'node:http';
import { createPublicKey, verify as edVerify } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface Arrival {
  path: string;
  t: number;
  user_agent: string | null;
  /** true / false, or null when the request carried no signature. */
  signature_valid: boolean | null;
  /** The same signature checked against a different @authority: must be false. */
  valid_if_authority_altered: boolean | null;
  keyid: string | null;
  tag: string | null;
  signature_agent: string | null;
}

interface HostState {
  robots: { status?: number; body?: string; redirect?: string };
  jwks: { kty: string; crv: string; x: string }[];
  arrivals: Arrival[];
  open: number;
  maxOpen: number;
  rateLimited: Set<string>;
}

/** RFC 9421 §2.5 signature base for the components web-bot-auth signs (@authority, signature-agent). */
function signatureBase(components: string[], paramsText: string, authority: string, headers: http.IncomingHttpHeaders): string | null {
  const lines: string[] = [];
  for (const c of components) {
    if (c === '@authority') lines.push(`"@authority": ${authority}`);
    else if (c.startsWith('@')) return null;
    else {
      const v = headers[c];
      if (v === undefined) return null;
      lines.push(`"${c}": ${(Array.isArray(v) ? v.join(', ') : v).trim()}`);
    }
  }
  lines.push(`"@signature-params": ${paramsText}`);
  return lines.join('\n');
}

/** Verifies `sig1`-style labelled signatures; returns [valid, validWithAlteredAuthority, keyid, tag]. */
function verifyRequest(req: http.IncomingMessage, jwks: HostState['jwks']): [boolean | null, boolean | null, string | null, string | null] {
  const input = req.headers['signature-input'];
  const signature = req.headers['signature'];
  if (typeof input !== 'string' || typeof signature !== 'string') return [null, null, null, null];
  // RFC 8941 dictionary with one member: label=(components);params
  const m = /^([a-z0-9_-]+)=(\(([^)]*)\)(.*))$/i.exec(input.trim());
  const s = /^([a-z0-9_-]+)=:([A-Za-z0-9+/=]+):$/i.exec(signature.trim());
  if (!m || !s || m[1] !== s[1]) return [false, false, null, null];
  const paramsText = m[2]!;
  const components = [...m[3]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
  const keyid = /;keyid="([^"]+)"/.exec(m[4]!)?.[1] ?? null;
  const tag = /;tag="([^"]+)"/.exec(m[4]!)?.[1] ?? null;
  const created = Number(/;created=(\d+)/.exec(m[4]!)?.[1]);
  const expires = Number(/;expires=(\d+)/.exec(m[4]!)?.[1]);
  const now = Math.floor(Date.now() / 1000);
  const fresh = created <= now + 5 && expires >= now && expires > created;
  const sig = Buffer.from(s[2]!, 'base64');
  const check = (authority: string) => {
    const base = signatureBase(components, paramsText, authority, req.headers);
    if (base === null) return false;
    return jwks.some((jwk) => edVerify(null, Buffer.from(base), createPublicKey({ key: jwk, format: 'jwk' }), sig));
  };
  const authority = (req.headers.host ?? '').toLowerCase();
  return [fresh && check(authority), check(`altered.${authority}`), keyid, tag];
}

const page = (title: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>Some text for ${title}.</p></body></html>`;

function handler(state: HostState) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const send = (status: number, body: string, type = 'text/html; charset=utf-8', extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': type, ...extra });
      res.end(body);
    };
    if (path === '/_setup' && req.method === 'POST') {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw || '{}') as { robots?: HostState['robots']; jwks?: HostState['jwks'] };
        state.robots = body.robots ?? {};
        state.jwks = body.jwks ?? [];
        state.arrivals = [];
        state.maxOpen = 0;
        state.rateLimited.clear();
        send(204, '', 'text/plain');
      });
      return;
    }
    if (path === '/_log') return send(200, JSON.stringify({ arrivals: state.arrivals, max_open: state.maxOpen }), 'application/json');

    const [valid, altered, keyid, tag] = verifyRequest(req, state.jwks);
    state.arrivals.push({
      path: path + url.search,
      t: Date.now(),
      user_agent: req.headers['user-agent'] ?? null,
      signature_valid: valid,
      valid_if_authority_altered: altered,
      keyid,
      tag,
      signature_agent: (req.headers['signature-agent'] as string | undefined) ?? null,
    });
    state.open++;
    state.maxOpen = Math.max(state.maxOpen, state.open);
    res.on('close', () => state.open--);

    if (path === '/robots.txt') {
      const r = state.robots;
      if (r.redirect) return send(301, '', 'text/plain', { Location: r.redirect });
      return send(r.status ?? 404, r.body ?? '', 'text/plain');
    }
    if (path === '/moved-robots.txt') return send(200, 'User-agent: *\nDisallow: /private\n', 'text/plain');
    const rl = /^\/rl\/([\w-]+)$/.exec(path);
    if (rl) {
      if (!state.rateLimited.has(rl[1]!)) {
        state.rateLimited.add(rl[1]!);
        return send(429, page('Slow down'), 'text/html', { 'Retry-After': url.searchParams.get('retry_after') ?? '2' });
      }
      return send(200, page(`Recovered ${rl[1]}`));
    }
    const p = /^\/(page|private|public)\/([\w-]+)$/.exec(path);
    if (p) {
      const ms = Math.min(Number(url.searchParams.get('ms') ?? '0'), 5000);
      const timer = setTimeout(() => send(200, page(`${p[1]} ${p[2]}`)), ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    send(404, 'not found', 'text/plain');
  };
}

/** Starts `count` listeners; each port is its own host with its own robots.txt and log. */
export async function startPoliteSites(count: number): Promise<{ ports: number[]; close(): Promise<void> }> {
  const servers: http.Server[] = [];
  for (let i = 0; i < count; i++) {
    const state: HostState = { robots: {}, jwks: [], arrivals: [], open: 0, maxOpen: 0, rateLimited: new Set() };
    const server = http.createServer(handler(state));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  return {
    ports: servers.map((s) => (s.address() as AddressInfo).port),
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}
