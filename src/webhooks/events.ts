/**
 * The events a gateway job's webhook can subscribe to (docs/jobs.md "Webhooks"). Here, beside the
 * signer, so the request schemas (src/crawl/schemas.ts) and the jobs module share one list without
 * the crawl side importing the jobs module.
 */
export const WEBHOOK_EVENTS = ['completed', 'failed', 'cancelled', 'progress'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
