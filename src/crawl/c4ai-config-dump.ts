/**
 * POST /config/dump (Crawl4AI 0.9): validates a `{type, params}` BrowserConfig/CrawlerRunConfig with
 * the crawl-option policy (the permissions of the fields it names) and the origin profile; with an
 * origin the normalised config is forwarded, at the edge the gateway echoes it itself.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { principalOf, tenantOf } from '../auth/principal';
import { audit } from '../audit/audit';
import { forwardToOrigin } from './origin/forward';
import { checkBody } from './options/check';
import { policyContextFor, policyError } from './policy';
import { toOrigin } from './origin-body';
import { strictBody } from './strict-body';
import { hasOrigin } from './c4ai-llm';

export async function dumpConfig(c: Context<AppEnv>): Promise<Response> {
  const body = strictBody(c);
  if (Object.hasOwn(body, 'code')) {
    throw new GatewayError(
      'bad_request',
      'The code form of /config/dump (Python source) is not accepted; send {"type": "CrawlerRunConfig" | "BrowserConfig", "params": {...}}',
    );
  }
  if (body.type !== 'CrawlerRunConfig' && body.type !== 'BrowserConfig')
    throw new GatewayError('bad_request', "type must be 'CrawlerRunConfig' or 'BrowserConfig'");
  const slot = body.type === 'BrowserConfig' ? 'browser_config' : 'crawler_config';
  const principal = principalOf(c);
  const ctx = policyContextFor(principal, c.get('config'));
  const checked = checkBody(
    'crawl',
    { [slot]: body },
    { permissions: ctx.permissions, tenant: tenantOf(principal), allowPrivateTargets: ctx.allowPrivateTargets, limits: ctx.limits },
  );
  if (!checked.ok) {
    const err = policyError(checked.issues.map((i) => ({ ...i, path: i.path.replace(`$.${slot}`, '$') })));
    audit(c, {
      action: err.code === 'insufficient_scope' ? 'permission_denied' : 'crawl_requested',
      outcome: 'denied',
      reason: err.code,
      status: err.status,
      details: { route: 'config_dump' },
    });
    throw err;
  }
  const config = checked.value[slot] as Record<string, unknown>;
  if (!hasOrigin(c)) return Response.json(config);
  return forwardToOrigin(c, {
    method: 'POST',
    path: '/config/dump',
    body: JSON.stringify(toOrigin(c, 'config', config)),
    contentType: 'application/json',
  });
}
