/**
 * One signed webhook POST (shared by jobs and exports): the egress policy on the URL (OWASP
 * API7:2023 SSRF; private and metadata addresses refused unless the caller allows private targets),
 * no redirects, a 10 s timeout, the body signed by `signWebhook`. Answers what to log and whether
 * another attempt may help: 5xx, 408, 429 and network errors are retryable; other statuses are
 * the receiver's final word.
 */
import { checkTargetUrl } from '../crawl/egress';
import { signWebhook } from './sign';

export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface SignedPost {
  url: string;
  secret: string;
  body: string;
  /** Extra headers (event name, delivery id, request id). */
  headers: Record<string, string>;
  allowPrivateTargets: boolean;
  nowMs: number;
}

/** `delivered`, `failed:<status>`, `failed:network` or `refused`, and whether a retry may help. */
export async function postSignedWebhook(p: SignedPost): Promise<{ outcome: string; retry: boolean }> {
  const target = checkTargetUrl(p.url, { allowPrivateTargets: p.allowPrivateTargets });
  if (!target.ok) return { outcome: 'refused', retry: false };
  try {
    const res = await fetch(target.url.href, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'crawlgate-webhooks/1',
        ...p.headers,
        ...(await signWebhook(p.secret, p.body, p.nowMs)),
      },
      body: p.body,
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { outcome: 'delivered', retry: false };
    return { outcome: `failed:${res.status}`, retry: res.status >= 500 || res.status === 408 || res.status === 429 };
  } catch {
    return { outcome: 'failed:network', retry: true };
  }
}
