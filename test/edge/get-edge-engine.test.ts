import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { getEdgeEngine } from '../../src/engines';
import { GatewayError } from '../../src/http/errors';
import type { Env } from '../../src/env';
import { createBrowserEngine } from '../../src/engines/browser-engine';
import type { BrowserBinding } from '../../src/engines/browser-session';

describe('getEdgeEngine', () => {
  it('returns the fetch and browser engines by kind', () => {
    expect(getEdgeEngine(env as unknown as Env, 'fetch').kind).toBe('fetch');
    expect(getEdgeEngine(env as unknown as Env, 'browser').kind).toBe('browser');
  });

  it('answers 503 service_unavailable for the browser engine without a BROWSER binding', () => {
    const withoutBrowser = { ...(env as unknown as Env), BROWSER: undefined } as unknown as Env;
    const error = (() => {
      try {
        getEdgeEngine(withoutBrowser, 'browser');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'service_unavailable', status: 503 });
  });

  it('the fetch engine points screenshot, PDF and script calls at the browser engine', async () => {
    const engine = getEdgeEngine(env as unknown as Env, 'fetch');
    const options = { browserParams: {}, crawlerParams: {}, allowPrivateTargets: true };
    for (const result of [
      await engine.screenshot('https://example.com/', options),
      await engine.pdf('https://example.com/', options),
      await engine.executeJs('https://example.com/', ['1'], options),
    ]) {
      expect(result.success).toBe(false);
      expect(result.error_message).toContain('use "engine":"browser"');
    }
  });
});

describe('browser engine without a browser', () => {
  it('fails the request with 503 service_unavailable when no session can be had', async () => {
    // A binding that refuses every session, as Browser Rendering does past the account's limit.
    const refusing = { fetch: async () => new Response('Too many browsers', { status: 429 }) };
    const engine = createBrowserEngine(refusing as unknown as BrowserBinding);
    const error = await (async () => {
      for await (const _ of engine.crawl(['https://example.com/'], { browserParams: {}, crawlerParams: {}, allowPrivateTargets: false })) {
        // nothing is yielded
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'service_unavailable', status: 503, headers: { 'Retry-After': '5' } });
  });
});
