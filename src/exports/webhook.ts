/**
 * Export-completion webhooks: a signed POST (src/webhooks/sign.ts) to the URL given with
 * `POST /exports`. The URL passes the same egress policy as crawl targets (OWASP API7:2023 SSRF),
 * when the export is requested and again before delivery; redirects are not followed.
 */
import { checkTargetUrl } from '../crawl/egress';
import { signWebhook } from '../webhooks/sign';

export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_ATTEMPTS = 3;

export interface WebhookDelivery {
  url: string;
  /** Held in memory for the export's run only; never stored. */
  secret: string;
  event: 'export.completed' | 'export.failed';
  payload: unknown;
  requestId: string;
  allowPrivateTargets: boolean;
  now: () => number;
  /** Waits between attempts (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
}

/** Delivers with up to 3 attempts; returns the status to record (`delivered`, `failed:<status>`, `refused`). */
export async function deliverWebhook(d: WebhookDelivery): Promise<string> {
  const target = checkTargetUrl(d.url, { allowPrivateTargets: d.allowPrivateTargets });
  if (!target.ok) return 'refused';
  const body = JSON.stringify({ type: d.event, data: d.payload });
  const sleep = d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = 'failed';
  for (let attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt++) {
    try {
      const res = await fetch(target.url.href, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'crawlgate-webhooks/1',
          'X-Crawlgate-Event': d.event,
          'X-Request-Id': d.requestId,
          ...(await signWebhook(d.secret, body, d.now())),
        },
        body,
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return 'delivered';
      last = `failed:${res.status}`;
      if (res.status < 500 && res.status !== 408 && res.status !== 429) return last; // the receiver said no
    } catch {
      last = 'failed:network';
    }
    if (attempt < WEBHOOK_ATTEMPTS) await sleep(1000 * 2 ** (attempt - 1));
  }
  return last;
}
