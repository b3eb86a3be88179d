/**
 * The polite gate: what an edge request (or a job page) uses to reach a target host. For each
 * hop it asks the host's `HostPacer` for robots.txt and a slot (one DO call), waits its turn,
 * signs the request (Web Bot Auth), sends it with the crawler's User-Agent, and hands the
 * outcome back when the body is done (status, Retry-After, timeout) so spacing, backoff and the
 * circuit follow what the host said. Refusals are `PageFetchError`s with kind `robots_disallowed`
 * or `host_busy`, which the engines turn into results with that `error_code`.
 */
import type { Env } from '../env';
import type { Config } from '../config';
import { VERSION } from '../version';
import { PageFetchError } from '../engines/fetch-page';
import { parseRetryAfter } from '../jobs/retry';
import { botAuthHeaders } from './bot-auth';
import type { Outcome } from './pacing';
import type { AcquireAnswer } from './pacer-types';
import { HostLane, type BaseRequest, type PacerStub } from './host-lanes';

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export const DEFAULT_CONTACT_URL = 'https://github.com/crawlgate';

/** CRAWLER_USER_AGENT, or one naming crawlgate, its version and CRAWLER_CONTACT_URL. */
export function crawlerUserAgent(config: Pick<Config, 'CRAWLER_USER_AGENT' | 'CRAWLER_CONTACT_URL'>): string {
  return (
    config.CRAWLER_USER_AGENT ?? `Mozilla/5.0 (compatible; crawlgate/${VERSION}; +${config.CRAWLER_CONTACT_URL ?? DEFAULT_CONTACT_URL})`
  );
}

export interface PoliteGateOptions {
  respectRobots: boolean;
  /** Origin mode: an unreachable robots.txt (no HTTP answer) is the origin's to judge. */
  deferUnreachableRobots?: boolean;
  allowPrivateTargets: boolean;
  /** Where the key directory is served (Signature-Agent); omitted when unknown. */
  agentUrl?: string;
  /** Longest wait for a host slot before `host_busy`. */
  maxWaitMs: number;
  /** How long a lease may live if its release is lost. */
  leaseMs: number;
  /** Keeps release calls alive past the response (ExecutionContext.waitUntil). */
  waitUntil?: (p: Promise<unknown>) => void;
}

export interface PoliteGate {
  /** The User-Agent sent (and whose product token robots.txt is matched for). */
  readonly userAgent: string;
  /** `fetch` for one hop: robots, slot, signature, then the request. */
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** Robots and a slot for a request made by other means (a browser navigation, the origin). */
  admit(url: string, signal?: AbortSignal): Promise<(outcome: Outcome) => void>;
  /** Web Bot Auth headers for a GET of `url` ({} without keys). */
  sign(url: string): Promise<Record<string, string>>;
  /** The request's pages, before it starts them: the host pacer may lease them ahead (host-lanes.ts). */
  expect(urls: readonly string[]): void;
  /** The request is over: unused leases go back and pending releases are sent (without waiting). */
  finish(): void;
  /** Sends what is pending and resolves when every release sent so far has landed. */
  settle(): Promise<void>;
}

function refusal(answer: Exclude<AcquireAnswer, { kind: 'go' }>, url: string): PageFetchError {
  if (answer.kind === 'disallowed') return new PageFetchError('robots_disallowed', answer.reason, null, url);
  return new PageFetchError(
    'host_busy',
    `${answer.reason}; retry in ${Math.ceil(answer.retryAfterMs / 1000)} s`,
    null,
    url,
    answer.retryAfterMs,
  );
}

function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What an aborted request means for the host: our own deadline is a timeout, anything else a cancel. */
function abortOutcome(signal: AbortSignal | null | undefined): Outcome {
  const reason: unknown = signal?.reason;
  return reason instanceof PageFetchError && reason.kind === 'timeout'
    ? { status: null, failure: 'timeout' }
    : { status: null, failure: 'cancelled' };
}

/** A body that calls `done` once when read to the end, cancelled or errored. */
function releasingBody(body: ReadableStream<Uint8Array>, done: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          done();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        done();
        controller.error(error);
      }
    },
    async cancel(reason) {
      done();
      await reader.cancel(reason).catch(() => undefined);
    },
  });
}

export function createPoliteGate(env: Env, config: Config, o: PoliteGateOptions): PoliteGate {
  const userAgent = crawlerUserAgent(config);
  const pending = new Set<Promise<unknown>>();
  const ns = env.HOST_PACER;
  const base: BaseRequest = {
    respectRobots: o.respectRobots,
    ...(o.deferUnreachableRobots ? { deferUnreachableRobots: true } : {}),
    userAgent,
    limits: {
      minDelayMs: config.HOST_MIN_DELAY_MS,
      maxConcurrency: config.HOST_MAX_CONCURRENCY,
      maxCrawlDelayMs: config.HOST_MAX_CRAWL_DELAY_MS,
      circuitThreshold: config.HOST_CIRCUIT_THRESHOLD,
    },
    maxWaitMs: o.maxWaitMs,
    leaseMs: o.leaseMs,
    allowPrivateTargets: o.allowPrivateTargets,
    ...(o.agentUrl ? { agentUrl: o.agentUrl } : {}),
  };
  const track = (p: Promise<unknown>) => {
    const settled = p.catch((error) => console.error('polite: a host pacer call failed', String(error)));
    pending.add(settled);
    void settled.finally(() => pending.delete(settled));
    o.waitUntil?.(settled);
  };
  // One lane per target host: its pages' calls to the host's HostPacer are batched (host-lanes.ts).
  const lanes = new Map<string, HostLane>();
  const laneFor = (url: string) => {
    const host = new URL(url).host;
    let lane = lanes.get(host);
    if (!lane) {
      lane = new HostLane(ns.get(ns.idFromName(host)) as unknown as PacerStub, base, track);
      lanes.set(host, lane);
    }
    return lane;
  };
  const sign = (url: string) => botAuthHeaders(url, 'GET', { keys: config.WEB_BOT_AUTH_KEYS, agentUrl: o.agentUrl });

  async function admit(url: string, signal?: AbortSignal | null): Promise<(outcome: Outcome) => void> {
    const lane = laneFor(url);
    const grant = await lane.acquire(url);
    if (grant.kind !== 'go') throw refusal(grant, url);
    let released = false;
    const release = (outcome: Outcome) => {
      if (released) return;
      released = true;
      lane.release(grant.leaseId, outcome);
    };
    try {
      signal?.throwIfAborted();
      await sleep(grant.startAt - Date.now(), signal);
    } catch (error) {
      release(abortOutcome(signal));
      throw error;
    }
    return release;
  }

  const finish = () => {
    for (const lane of lanes.values()) track(lane.finish());
  };

  return {
    userAgent,
    sign,
    admit: (url, signal) => admit(url, signal),
    async fetch(url, init) {
      const done = await admit(url, init.signal);
      const headers = new Headers(init.headers);
      headers.set('User-Agent', headers.get('User-Agent') ?? userAgent);
      for (const [k, v] of Object.entries(await sign(url))) headers.set(k, v);
      let response: Response;
      try {
        response = await fetch(url, { ...init, headers });
      } catch (error) {
        done(init.signal?.aborted ? abortOutcome(init.signal) : { status: null, failure: 'network' });
        throw error;
      }
      const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), Date.now());
      const outcome: Outcome = { status: response.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      if (!response.body || NULL_BODY_STATUSES.has(response.status)) {
        done(outcome);
        return response;
      }
      // The lease ends when the body is done: in-flight counts the whole download.
      const body = releasingBody(response.body, () => done(outcome));
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
    expect(urls) {
      for (const url of urls) {
        try {
          laneFor(url).expect(url);
        } catch {
          // not a URL: the engine answers it without a host
        }
      }
    },
    finish,
    async settle() {
      finish();
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
