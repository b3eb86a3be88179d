/**
 * Crawl4AI 0.9's declarative hook actions (deploy/docker/hook_registry.py) on the edge engines:
 * `{"hooks": {"hooks": [{"action": "block_resources", "params": {...}}, ...]}}`. Each action is a
 * fixed, server-authored browser operation with bounded parameters; no caller string ever runs.
 *
 * At the edge:
 *  - `block_resources`: the types are aborted before they leave the browser (like text mode);
 *  - `scroll_to_bottom`: bounded scroll steps with a delay, before the HTML is read;
 *  - `wait_for_timeout`: a bounded wait before the HTML is read (within the page timeout);
 *  - `add_cookies`, `set_headers`: refused with 422 at the edge (the browser's requests are signed
 *    and egress-checked per request; caller cookies and headers would ride on every sub-request to
 *    any host). The origin runs them (they need `crawl:headers`).
 * The fetch engine loads no sub-resources and runs no page, so the three supported actions change
 * nothing there; they are accepted so the same body works on both engines.
 * Pure except `runPageHooks`, which drives a page.
 */
import type { Page } from '@cloudflare/puppeteer';
import { GatewayError } from '../http/errors';
import type { BlockableResource } from './browser-resources';

export type HookAction =
  | { action: 'block_resources'; resourceTypes: BlockableResource[] }
  | { action: 'scroll_to_bottom'; maxSteps: number; delayMs: number }
  | { action: 'wait_for_timeout'; timeoutMs: number };

/** The actions, as `GET /hooks/info` describes them (Crawl4AI's shape). */
export const HOOK_ACTIONS_INFO = {
  block_resources: {
    hook_point: 'on_page_context_created',
    description: 'Abort matching resource types (image/stylesheet/font/media).',
    params: { resource_types: { type: 'array', items: { enum: ['image', 'stylesheet', 'font', 'media'] }, minItems: 1 } },
    edge: 'supported',
  },
  add_cookies: {
    hook_point: 'on_page_context_created',
    description: 'Add cookies to the browser context before navigation (auth).',
    params: { cookies: { type: 'array', maxItems: 20 } },
    edge: 'origin only (needs crawl:headers)',
  },
  set_headers: {
    hook_point: 'before_goto',
    description: 'Set extra HTTP request headers before navigating.',
    params: { headers: { type: 'object', maxProperties: 20 } },
    edge: 'origin only (needs crawl:headers)',
  },
  scroll_to_bottom: {
    hook_point: 'before_retrieve_html',
    description: 'Scroll to the page bottom in bounded steps (lazy-load).',
    params: {
      max_steps: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
      delay_ms: { type: 'integer', minimum: 0, maximum: 5000, default: 500 },
    },
    edge: 'supported',
  },
  wait_for_timeout: {
    hook_point: 'before_retrieve_html',
    description: 'Wait a bounded number of milliseconds before retrieving HTML.',
    params: { timeout_ms: { type: 'integer', minimum: 0, maximum: 60000 } },
    edge: 'supported',
  },
} as const;

function int(v: unknown, dflt: number, min: number, max: number): number {
  return typeof v === 'number' && Number.isInteger(v) ? Math.min(Math.max(v, min), max) : dflt;
}

/**
 * Pure: the hook actions of a policy-checked body (`hooks.hooks`), or a 422 for an action the edge
 * does not run. The crawl-option policy already checked names, shapes and bounds.
 */
export function edgeHookActions(body: Record<string, unknown>, strict = true): HookAction[] {
  const hooks = body.hooks as { hooks?: unknown } | undefined;
  const list = Array.isArray(hooks?.hooks) ? (hooks.hooks as Array<{ action?: unknown; params?: Record<string, unknown> | null }>) : [];
  const out: HookAction[] = [];
  list.forEach((h, i) => {
    const p = h.params ?? {};
    switch (h.action) {
      case 'block_resources':
        out.push({
          action: 'block_resources',
          resourceTypes: (Array.isArray(p.resource_types) ? p.resource_types : []) as BlockableResource[],
        });
        break;
      case 'scroll_to_bottom':
        out.push({ action: 'scroll_to_bottom', maxSteps: int(p.max_steps, 10, 1, 50), delayMs: int(p.delay_ms, 500, 0, 5000) });
        break;
      case 'wait_for_timeout':
        out.push({ action: 'wait_for_timeout', timeoutMs: int(p.timeout_ms, 0, 0, 60_000) });
        break;
      default:
        if (!strict) return;
        throw new GatewayError(
          'validation_failed',
          `Invalid request: $.hooks.hooks[${i}].action: "${String(h.action)}" runs on the origin only (the edge engines run block_resources, scroll_to_bottom and wait_for_timeout)`,
          {
            extras: { errors: [{ path: `$.hooks.hooks[${i}].action`, message: 'not supported by the edge engines' }] },
          },
        );
    }
  });
  return out;
}

/** Resource types the hooks block (merged into the engine's own blocked set). */
export function hookBlockedResources(actions: readonly HookAction[] | undefined): BlockableResource[] {
  return (actions ?? []).flatMap((a) => (a.action === 'block_resources' ? a.resourceTypes : []));
}

/** Runs the `before_retrieve_html` actions on a loaded page, in order, within `budgetMs`. */
export async function runPageHooks(page: Page, actions: readonly HookAction[] | undefined, budgetMs: number): Promise<void> {
  const deadline = Date.now() + budgetMs;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, deadline - Date.now()))));
  for (const a of actions ?? []) {
    if (Date.now() >= deadline) return;
    if (a.action === 'wait_for_timeout') await sleep(a.timeoutMs);
    else if (a.action === 'scroll_to_bottom') {
      for (let i = 0; i < a.maxSteps && Date.now() < deadline; i++) {
        await page.evaluate('window.scrollTo(0, document.body ? document.body.scrollHeight : 0)');
        if (a.delayMs) await sleep(a.delayMs);
      }
    }
  }
}
