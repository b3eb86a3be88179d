/**
 * Fetches one origin's /robots.txt the way RFC 9309 §2.3 asks: GET, redirects followed by hand up
 * to five hops with the egress (SSRF) policy on every hop, at most 500 KiB read, a short deadline,
 * and the gateway's User-Agent and Web Bot Auth signature like every other edge request.
 */
import { checkTargetUrl } from '../crawl/egress';
import { readCapped } from '../engines/fetch-page';
import { kindForStatus, robotsRecord, robotsText, ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, type RobotsRecord } from './robots-rules';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
export const ROBOTS_TIMEOUT_MS = 10_000;

export interface RobotsFetchOptions {
  userAgent: string;
  allowPrivateTargets: boolean;
  /** Signature headers for a GET of the URL (Web Bot Auth); {} when unsigned. */
  sign: (url: string) => Promise<Record<string, string>>;
  previous?: RobotsRecord | null;
  now?: () => number;
  timeoutMs?: number;
}

/** The cache record for `origin` (e.g. `https://example.com`). Never throws. */
export async function fetchRobots(origin: string, o: RobotsFetchOptions): Promise<RobotsRecord> {
  const now = o.now ?? Date.now;
  const record = (kind: Parameters<typeof robotsRecord>[0], body: string, status: number | null, note: string) =>
    robotsRecord(kind, body, status, note, now(), o.previous);
  const signal = AbortSignal.timeout(o.timeoutMs ?? ROBOTS_TIMEOUT_MS);
  let current = `${origin}/robots.txt`;
  try {
    for (let hop = 0; ; hop++) {
      const verdict = checkTargetUrl(current, { allowPrivateTargets: o.allowPrivateTargets });
      if (!verdict.ok) return record('disallow_all', '', null, `redirect refused by the egress policy: ${verdict.reason}`);
      const res = await fetch(verdict.url.href, {
        method: 'GET',
        redirect: 'manual',
        signal,
        headers: { 'User-Agent': o.userAgent, Accept: 'text/plain,*/*;q=0.5', ...(await o.sign(verdict.url.href)) },
      });
      const location = res.headers.get('Location');
      if (REDIRECTS.has(res.status) && location !== null) {
        await res.body?.cancel().catch(() => undefined);
        // §2.3.1.2: past five redirects the file MAY be taken as unavailable (allow all).
        if (hop >= ROBOTS_MAX_REDIRECTS) return record('allow_all', '', res.status, `more than ${ROBOTS_MAX_REDIRECTS} redirects`);
        current = new URL(location, verdict.url).href;
        continue;
      }
      const kind = kindForStatus(res.status);
      if (kind !== 'rules') {
        await res.body?.cancel().catch(() => undefined);
        return record(kind, '', res.status, `HTTP ${res.status}`);
      }
      const { bytes, truncated } = await readCapped(res.body, ROBOTS_MAX_BYTES);
      return record(
        'rules',
        robotsText(bytes, truncated),
        res.status,
        truncated ? `HTTP ${res.status}, cut at ${ROBOTS_MAX_BYTES} bytes` : `HTTP ${res.status}`,
      );
    }
  } catch (error) {
    const timedOut = signal.aborted;
    return record(
      'disallow_all',
      '',
      null,
      timedOut ? 'timed out' : `network error: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
