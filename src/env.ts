/**
 * The Worker's bindings and the per-request variables every router and middleware shares.
 * One `AppEnv` type for the whole app (the Unkey pattern): `Hono<AppEnv>` everywhere.
 */
import type { Config, configSchema } from './config';
import type { Principal } from './auth/principal';

/**
 * Every var and secret `config.ts` reads, as the raw optional string the runtime hands over. Secrets
 * (`wrangler secret put`) and optional tuning vars are not in wrangler.toml, so `wrangler types` cannot
 * name them; the config schema does.
 */
export type ConfigStrings = { [Name in keyof typeof configSchema.shape]?: string };

/**
 * The Worker's bindings and vars, generated from wrangler.toml by `npm run types` (`wrangler types`,
 * src/env.generated.d.ts; `npm run check:types` fails when it is stale), plus the config strings.
 * No index signature: a misspelt binding or variable name does not type-check.
 */
export type Env = Cloudflare.Env & ConfigStrings;

/** Values set by middleware for the rest of the request. */
export interface AppVariables {
  requestId: string;
  config: Config;
  /** Client IP from `CF-Connecting-IP` only (never a client-set `X-Forwarded-For`). */
  clientIp: string | null;
  /** Set by `authenticate`; absent on public routes. */
  principal?: Principal;
  /** The route template (e.g. `/admin/keys/:id`) the router matched, or "unmatched" (src/http/request-target.ts). */
  routeTemplate?: string;
  /** Hono's decoded routing path, read once per request (src/http/request-target.ts). */
  path?: string;
  /** The request URL, parsed once per request (src/http/request-target.ts). */
  url?: URL;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
