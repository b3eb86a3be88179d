/**
 * robots.txt per RFC 9309, pure: what a fetch outcome means, how long it is cached, and whether a
 * URL is allowed for the gateway's product token. Matching is `robots-parser` (longest match,
 * allow wins ties, `*` and `$`); the size cap is enforced here because the parser has none.
 */
import robotsParser from 'robots-parser';

/** RFC 9309 §2.5: crawlers MUST parse at least 500 KiB; content past it is ignored. */
export const ROBOTS_MAX_BYTES = 500 * 1024;
/** RFC 9309 §2.3.1.2: follow at least five consecutive redirects. */
export const ROBOTS_MAX_REDIRECTS = 5;
/** RFC 9309 §2.4: a cached robots.txt SHOULD NOT be used for more than 24 hours. */
export const ROBOTS_TTL_MS = 24 * 3600_000;
/** After a 5xx / unreachable robots.txt: disallow everything, ask again after this long. */
export const ROBOTS_ERROR_TTL_MS = 5 * 60_000;
/** RFC 9309 §2.4: an unreachable robots.txt may fall back to the last good copy up to 30 days old. */
export const ROBOTS_STALE_MAX_MS = 30 * 24 * 3600_000;

/**
 * What a robots.txt fetch meant: `rules` (2xx body), `allow_all` (4xx "unavailable", RFC 9309
 * §2.3.1.3, or more than five redirects), `disallow_all` (5xx, 429, network error, or a redirect
 * the egress policy refuses: "unreachable", §2.3.1.4).
 */
export type RobotsKind = 'rules' | 'allow_all' | 'disallow_all';

export interface RobotsRecord {
  kind: RobotsKind;
  /** The (capped) body for `rules`; '' otherwise. */
  body: string;
  /** HTTP status of the last hop, or null when nothing answered. */
  status: number | null;
  fetchedAt: number;
  expiresAt: number;
  /** A short note for admins (e.g. "HTTP 503", "network error"). */
  note: string;
}

/** The outcome of one fetch as a cache record (`previous` = last record, for the stale fallback). */
export function robotsRecord(
  kind: RobotsKind,
  body: string,
  status: number | null,
  note: string,
  now: number,
  previous?: RobotsRecord | null,
): RobotsRecord {
  if (kind === 'disallow_all' && previous && previous.kind !== 'disallow_all' && now - previous.fetchedAt < ROBOTS_STALE_MAX_MS) {
    // Keep obeying the last good copy while the file is unreachable (§2.4), and ask again soon.
    return {
      ...previous,
      expiresAt: now + ROBOTS_ERROR_TTL_MS,
      note: `${note}; using the copy from ${new Date(previous.fetchedAt).toISOString()}`,
    };
  }
  return {
    kind,
    body: kind === 'rules' ? body : '',
    status,
    fetchedAt: now,
    expiresAt: now + (kind === 'disallow_all' ? ROBOTS_ERROR_TTL_MS : ROBOTS_TTL_MS),
    note,
  };
}

/** The kind for a final (non-redirect) HTTP status. 429 counts as unreachable, like a 5xx. */
export function kindForStatus(status: number): RobotsKind {
  if (status >= 200 && status < 300) return 'rules';
  if (status === 429 || status >= 500) return 'disallow_all';
  if (status >= 400) return 'allow_all';
  return 'disallow_all';
}

/** Decodes at most ROBOTS_MAX_BYTES as UTF-8; a cut-off last line is dropped, not half-read. */
export function robotsText(bytes: Uint8Array, truncated: boolean): string {
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(bytes.subarray(0, ROBOTS_MAX_BYTES));
  if (!truncated && bytes.length <= ROBOTS_MAX_BYTES) return text;
  const lastBreak = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
  return lastBreak >= 0 ? text.slice(0, lastBreak + 1) : '';
}

/**
 * The product token robots.txt groups are matched against (RFC 9309 §2.2.1): the first
 * `name/version` product of the User-Agent that is not the `Mozilla` compatibility prefix.
 */
export function productToken(userAgent: string): string {
  for (const m of userAgent.matchAll(/([A-Za-z_-]+)\/[^\s;()]*/g)) {
    if (m[1]!.toLowerCase() !== 'mozilla') return m[1]!.toLowerCase();
  }
  const bare = /^[A-Za-z_-]+/.exec(userAgent.trim());
  return (bare?.[0] ?? 'crawlgate').toLowerCase();
}

/** Parsed robots.txt objects, keyed by origin + fetch time (parsing 500 KiB per page would be waste). */
export type ParsedRobots = ReturnType<typeof robotsParser>;

export function parseRobots(origin: string, body: string): ParsedRobots {
  return robotsParser(`${origin}/robots.txt`, body);
}

export interface RobotsVerdict {
  allowed: boolean;
  /** Crawl-delay for our token (or `*`), in ms, when the file sets one. */
  crawlDelayMs: number | null;
  reason: string;
}

/** Whether `url` may be fetched under `record` (parsed lazily by the caller's `parsed`). */
export function robotsVerdict(record: RobotsRecord, parsed: ParsedRobots | null, url: string, token: string): RobotsVerdict {
  if (record.kind === 'allow_all')
    return { allowed: true, crawlDelayMs: null, reason: `robots.txt unavailable (${record.note}): everything allowed` };
  if (record.kind === 'disallow_all')
    return {
      allowed: false,
      crawlDelayMs: null,
      reason: `robots.txt unreachable (${record.note}): everything disallowed for now (RFC 9309 §2.3.1.4)`,
    };
  const allowed = parsed?.isAllowed(url, token) !== false;
  const delay = parsed?.getCrawlDelay(token);
  const crawlDelayMs = typeof delay === 'number' && Number.isFinite(delay) && delay > 0 ? Math.round(delay * 1000) : null;
  const line = allowed ? 0 : (parsed?.getMatchingLineNumber(url, token) ?? -1);
  return {
    allowed,
    crawlDelayMs,
    reason: allowed ? 'allowed by robots.txt' : `disallowed by robots.txt${line > 0 ? ` (line ${line})` : ''} for user agent "${token}"`,
  };
}
