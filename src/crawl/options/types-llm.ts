/**
 * The LLM side of the strategy allow-list (Crawl4AI 0.9.2): `LLMConfig`, the fields every LLM
 * strategy refuses (the deprecated per-strategy LLM arguments), and the rule that keeps the origin's
 * own LLM keys from going to a caller-chosen endpoint.
 */
import type { ObjectRule, TypeSpec } from './kinds';
import { PRINTABLE, capability, int, listOf, never, num, str, typed } from './kinds';

export const LLM = 'crawl:llm' as const;

/** True when `base` is one of the LLM endpoints the operator configured (trailing slashes ignored). */
function operatorEndpoint(base: string, allowed: readonly string[]): boolean {
  const norm = (u: string) => u.trim().replace(/\/+$/, '').toLowerCase();
  return allowed.some((a) => norm(a) === norm(base));
}

/**
 * Crawl4AI resolves `api_token: "env:NAME"` from the origin's environment, and with no token at
 * all falls back to the provider's key from the environment. Sent to a caller-chosen `base_url`,
 * either hands the origin's secret to the caller: refused for everyone. A caller's own literal
 * token may go to its own endpoint (egress-checked); the origin's keys only go to the provider's
 * default endpoint or to one the operator configured (`LLM_BASE_URLS`).
 */
export const llmEndpointRule: ObjectRule = (o, limits) => {
  const token = o.api_token;
  const originKey = token === undefined || token === null || token === '' || (typeof token === 'string' && token.startsWith('env:'));
  const out: ReturnType<ObjectRule> = [];
  for (const field of ['base_url', 'api_base']) {
    const base = o[field];
    if (typeof base !== 'string' || base === '') continue;
    if (originKey && !operatorEndpoint(base, limits.llmBaseUrls)) {
      out.push({
        field,
        cls: 'never',
        message:
          'a caller-chosen LLM endpoint with the origin\'s own key (api_token absent or "env:…"); use an endpoint from LLM_BASE_URLS or your own literal api_token',
      });
    }
  }
  return out;
};

/** A strategy's `llm_config` slot (needs crawl:llm). */
export const llmConfig = capability(LLM, typed(['LLMConfig'], 'LLMConfig'), 'the LLM provider configuration');

/** The per-strategy LLM arguments Crawl4AI 0.9 refuses: set them in llm_config. */
export const deprecatedLlm = {
  provider: never('deprecated LLM argument; set it in llm_config (Crawl4AI refuses it)'),
  api_token: never('deprecated LLM argument; set it in llm_config (Crawl4AI refuses it)'),
  base_url: never('deprecated LLM argument; set it in llm_config (Crawl4AI refuses it)'),
  api_base: never('deprecated LLM argument; set it in llm_config (Crawl4AI refuses it)'),
  extra_args: never('keyword arguments passed straight to the LLM client (endpoints, keys, callbacks)'),
};

export const LLM_TYPES: Record<string, TypeSpec> = {
  LLMConfig: {
    source: 'crawl4ai.async_configs.LLMConfig',
    permission: LLM,
    rules: [llmEndpointRule],
    fields: {
      provider: capability(LLM, str(200, /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.:@/-]+$/), 'provider/model (LiteLLM name)'),
      api_token: capability(
        LLM,
        str(1000, PRINTABLE),
        'a literal key, or "env:NAME" (the origin\'s environment; only to the provider\'s or an operator-configured endpoint)',
      ),
      base_url: capability(LLM, { kind: 'url' }, "LLM endpoint (egress-checked; never with the origin's own key unless in LLM_BASE_URLS)"),
      temperature: capability(LLM, num(0, 2), 'sampling temperature'),
      max_tokens: capability(LLM, int(1, 1_000_000), 'answer length'),
      top_p: capability(LLM, num(0, 1), 'nucleus sampling'),
      frequency_penalty: capability(LLM, num(-2, 2), 'frequency penalty'),
      presence_penalty: capability(LLM, num(-2, 2), 'presence penalty'),
      stop: capability(LLM, listOf(str(200), 10), 'stop sequences'),
      n: capability(LLM, int(1, 10), 'answers per prompt'),
      backoff_base_delay: capability(LLM, int(0, 60), 'retry back-off'),
      backoff_max_attempts: capability(LLM, int(0, 10), 'retry attempts'),
      backoff_exponential_factor: capability(LLM, int(1, 10), 'retry back-off factor'),
    },
  },
};
