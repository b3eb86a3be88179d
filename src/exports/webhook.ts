/**
 * Export-completion webhooks: a signed POST (src/webhooks/sign.ts) to the URL given with
 * `POST /exports`. The URL passes the same egress policy as crawl targets (OWASP API7:2023 SSRF),
 * when the export is requested and again before delivery; redirects are not followed.
 */
import { postSignedWebhook } from '../webhooks/post';

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
  const body = JSON.stringify({ type: d.event, data: d.payload });
  const sleep = d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = 'failed';
  for (let attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt++) {
    const r = await postSignedWebhook({
      url: d.url,
      secret: d.secret,
      body,
      headers: { 'X-Crawlgate-Event': d.event, 'X-Request-Id': d.requestId },
      allowPrivateTargets: d.allowPrivateTargets,
      nowMs: d.now(),
    });
    if (!r.retry) return r.outcome;
    last = r.outcome;
    if (attempt < WEBHOOK_ATTEMPTS) await sleep(1000 * 2 ** (attempt - 1));
  }
  return last;
}
