/**
 * The body the origin receives: the crawl-option policy's rebuild, shaped by the origin profile
 * (`ORIGIN_PROFILE`, options/origin-profile.ts). A field the configured Crawl4AI release would
 * refuse stops here with its own words (400 `origin_refuses_field`), audited, before any origin call.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { audit } from '../audit/audit';
import { GatewayError } from '../http/errors';
import { principalOf } from '../auth/principal';
import { applyOriginProfile } from './options/origin-profile';
import type { BodyShape } from './options/table';

/** `applyOriginProfile` for the current request and config, auditing a refusal with its reason. */
export function toOrigin(
  c: Context<AppEnv>,
  shape: BodyShape | 'config' | 'llm_job',
  body: Record<string, unknown>,
): Record<string, unknown> {
  try {
    return applyOriginProfile(c.get('config').ORIGIN_PROFILE, shape, body, principalOf(c).permissions);
  } catch (err) {
    if (err instanceof GatewayError)
      audit(c, { action: 'crawl_requested', outcome: 'denied', reason: err.code, status: err.status, details: { route: shape } });
    throw err;
  }
}
