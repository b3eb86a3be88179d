/**
 * Origin profiles (config `ORIGIN_PROFILE`, docs/crawling.md "Origin profile"): what the Crawl4AI
 * release behind `ORIGIN_URL` accepts, applied to a body the crawl-option policy already checked.
 *
 * `crawl4ai-0.9` follows the 0.9 server's untrusted-input gate (crawl4ai/async_configs.py
 * `UNTRUSTED_FORBIDDEN_FIELDS`, `UNTRUSTED_FIELD_ALLOWLIST`, `UNTRUSTED_ALLOWED_TYPES`, checked
 * against 0.9.2; deploy/docker/MIGRATION.md "Request bodies accept declarative options only"):
 * a power field or a type it would refuse with 400 is refused here first, with the same words,
 * so the origin is never called for a request it would turn down; a field it would drop is
 * dropped; timeouts are clamped as it clamps them. `crawl4ai-0.8` forwards the policy's body as is.
 * Pure: no I/O.
 */
import type { Permission } from '../../auth/rbac';
import { GatewayError } from '../../http/errors';
import type { BodyShape } from './table';
import { ALLOWED_TYPES, FORBIDDEN, KEPT } from './origin-profile-09';

export const ORIGIN_PROFILES = ['crawl4ai-0.9', 'crawl4ai-0.8'] as const;
export type OriginProfile = (typeof ORIGIN_PROFILES)[number];

type Plain = Record<string, unknown>;

/** Fields the gateway's browser engine runs itself (the hint in the refusal, for holders of crawl:js). */
const EDGE_RUNS = new Set(['js_code']);

const MAX_TIMEOUT_MS = 60_000;
const MAX_SCROLL_STEPS = 1000;
const MAX_VIEWPORT = 4000;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Refusal {
  path: string;
  message: string;
  field: string;
}

/** The refusal the client sees: 400 `origin_refuses_field`, Crawl4AI's own words, every path listed. */
function refusal(profile: OriginProfile, found: Refusal[], permissions: readonly Permission[]): GatewayError {
  const first = found[0] as Refusal;
  const edgeHint = permissions.includes('crawl:js') && found.some((f) => EDGE_RUNS.has(f.field));
  const hint = edgeHint ? '; "engine":"browser" runs it at the edge' : '';
  const detail = `${first.message} (the ${profile} origin refuses it; the gateway did not forward the request)${hint}`;
  return new GatewayError('origin_refuses_field', detail, {
    extras: {
      origin_profile: profile,
      errors: found.map(({ path, message }) => ({ path, message })),
      ...(edgeHint ? { engine_hint: 'browser' } : {}),
    },
  });
}

class Gate09 {
  readonly found: Refusal[] = [];

  refuse(path: string, field: string, message: string): void {
    if (this.found.length < 50) this.found.push({ path, field, message });
  }

  /** A `{type, params}` object, a `{"type":"dict"}` wrapper, or plain data: nested types must be allowed. */
  nested(v: unknown, path: string): unknown {
    if (Array.isArray(v)) return v.map((item, i) => this.nested(item, `${path}[${i}]`));
    if (!isPlain(v)) return v;
    if (typeof v.type === 'string' && (Object.hasOwn(v, 'params') || Object.hasOwn(v, 'value'))) {
      if (!ALLOWED_TYPES.has(v.type)) {
        this.refuse(`${path}.type`, v.type, `type '${v.type}' may not be constructed from an untrusted request`);
        return v;
      }
      if (v.type === 'CrawlerRunConfig' || v.type === 'BrowserConfig') return this.config(v.type, v, path);
    }
    const out: Plain = {};
    for (const [k, item] of Object.entries(v)) out[k] = this.nested(item, `${path}.${k}`);
    return out;
  }

  /** A BrowserConfig / CrawlerRunConfig, typed (`{type, params}`) or as bare params. */
  config(type: 'BrowserConfig' | 'CrawlerRunConfig', v: unknown, path: string): unknown {
    if (!isPlain(v)) return v;
    const typedForm = typeof v.type === 'string' && isPlain(v.params);
    const params = typedForm ? (v.params as Plain) : v;
    const base = typedForm ? `${path}.params` : path;
    const out: Plain = {};
    for (const [k, item] of Object.entries(params)) {
      if (FORBIDDEN[type].has(k)) {
        this.refuse(`${base}.${k}`, k, `field '${k}' is not permitted on ${type} from an untrusted request`);
        continue;
      }
      if (!KEPT[type].has(k)) continue;
      out[k] = this.nested(item, `${base}.${k}`);
    }
    clamp(type, out);
    return typedForm ? { type: v.type, params: out } : out;
  }
}

/** What the 0.9 origin does to the quantities it clamps (`_clamp_untrusted`). */
function clamp(type: 'BrowserConfig' | 'CrawlerRunConfig', p: Plain): void {
  if (type === 'CrawlerRunConfig') {
    for (const f of ['page_timeout', 'wait_for_timeout']) {
      if (!(f in p)) continue;
      const v = p[f];
      p[f] = typeof v !== 'number' || v <= 0 ? MAX_TIMEOUT_MS : Math.min(Math.trunc(v), MAX_TIMEOUT_MS);
    }
    if (typeof p.max_scroll_steps === 'number') p.max_scroll_steps = Math.min(p.max_scroll_steps, MAX_SCROLL_STEPS);
  } else {
    for (const f of ['viewport_width', 'viewport_height']) {
      if (typeof p[f] === 'number') p[f] = Math.max(1, Math.min(p[f] as number, MAX_VIEWPORT));
    }
  }
}

/**
 * The body to forward to an origin of `profile`, or the 400 it would answer. `body` is the
 * crawl-option policy's rebuild (only allowed fields, already permission-checked).
 */
export function applyOriginProfile(
  profile: OriginProfile,
  shape: BodyShape | 'config' | 'llm_job',
  body: Record<string, unknown>,
  permissions: readonly Permission[],
): Record<string, unknown> {
  if (profile === 'crawl4ai-0.8') return body;
  const gate = new Gate09();
  const out: Plain = { ...body };
  if (shape === 'config') {
    const type = body.type === 'BrowserConfig' ? 'BrowserConfig' : 'CrawlerRunConfig';
    const r = gate.config(type, body, '$');
    if (gate.found.length > 0) throw refusal(profile, gate.found, permissions);
    return r as Plain;
  }
  if ('browser_config' in out) out.browser_config = gate.config('BrowserConfig', out.browser_config, '$.browser_config');
  if ('crawler_config' in out) out.crawler_config = gate.config('CrawlerRunConfig', out.crawler_config, '$.crawler_config');
  if (Array.isArray(out.crawler_configs))
    out.crawler_configs = out.crawler_configs.map((cfg, i) => gate.config('CrawlerRunConfig', cfg, `$.crawler_configs[${i}]`));
  const hooks = out.hooks;
  if (isPlain(hooks) && hooks.code !== undefined && hooks.code !== null) {
    gate.refuse(
      '$.hooks.code',
      'hooks.code',
      'hooks.code (Python hook source) is no longer accepted; use declarative actions in hooks.hooks (GET /hooks/info)',
    );
  }
  if ('base_url' in out) gate.refuse('$.base_url', 'base_url', 'base_url is not accepted; select an LLM provider by name');
  if (gate.found.length > 0) throw refusal(profile, gate.found, permissions);
  return out;
}
