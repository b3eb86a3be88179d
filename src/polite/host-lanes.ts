/**
 * One request's pages on one host, batched into few `HostPacer` calls (issue #25): pages that ask for
 * a slot at about the same time go in one `acquireMany` call; a finished page's release rides along
 * with the next call, or goes after RELEASE_FLUSH_MS, or at once when the request has nothing else
 * running on the host or the object said other callers were waiting at the host's cap; and when the request said which pages come next (`expect`), the first call
 * also leases those ahead — only if the host has no spacing and free slots, so a lease ahead costs
 * the host nothing but a slot held a little early (conservative for the in-flight cap). A page with
 * a bad outcome (429, 5xx, timeout, network) gives back the unused leases ahead, so the next pages
 * ask again and see the backoff or the circuit.
 */
import type { Outcome } from './pacing';
import type { AcquireAnswer, AcquireManyAnswer, AcquireManyRequest, ReleaseNote } from './pacer-types';

/** How long a finished page's release may wait for a call to ride along with. */
export const RELEASE_FLUSH_MS = 100;
/** Most pages leased ahead in one call. */
export const MAX_AHEAD = 32;

export interface PacerStub {
  acquireMany(req: AcquireManyRequest): Promise<AcquireManyAnswer>;
  release(notes: ReleaseNote[]): Promise<void>;
}

/** A lease to start at `startAt` (local clock), or the object's refusal. */
export type Grant = { kind: 'go'; leaseId: string; startAt: number } | Exclude<AcquireAnswer, { kind: 'go' }>;

interface Waiter {
  url: string;
  resolve: (grant: Grant) => void;
  reject: (error: unknown) => void;
}

/** What every call of a request carries (limits, robots mode, waits). */
export type BaseRequest = Omit<AcquireManyRequest, 'urls' | 'ahead' | 'mayWait' | 'releases'>;

function bad(o: Outcome): boolean {
  if (o.failure === 'cancelled') return false;
  return o.status === null || o.status === 429 || o.status >= 500;
}

export class HostLane {
  #waiting: Waiter[] = [];
  /** Told `later` by the object: asked again when one of our leases ends. */
  #parked: Waiter[] = [];
  #releases: ReleaseNote[] = [];
  #expected: string[] = [];
  #prepared = new Map<string, Grant[]>();
  #live = 0;
  #calling = false;
  #scheduled = false;
  #releaseTimer = false;
  #spaced = false;
  #finished = false;
  #contended = false;

  constructor(
    private readonly stub: PacerStub,
    private readonly base: BaseRequest,
    private readonly track: (p: Promise<unknown>) => void,
  ) {}

  /** Pages of this request that will ask for this host later (leased ahead when free). */
  expect(url: string): void {
    this.#expected.push(url);
  }

  /** A lease (or refusal) for `url`: from the leases ahead, else in the next batched call. */
  acquire(url: string): Promise<Grant> {
    const i = this.#expected.indexOf(url);
    if (i >= 0) this.#expected.splice(i, 1);
    const ready = this.#prepared.get(url)?.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise<Grant>((resolve, reject) => {
      this.#waiting.push({ url, resolve, reject });
      this.#schedule();
    });
  }

  /** Ends one lease with its outcome (batched, see the module comment). */
  release(leaseId: string, outcome: Outcome): void {
    this.#live--;
    this.#releases.push({ leaseId, ...outcome });
    if (bad(outcome)) this.#giveBackAhead();
    if (this.#parked.length) this.#waiting.push(...this.#parked.splice(0));
    // Others waiting at the host's cap need this slot now: no holding back then.
    if (this.#waiting.length || this.#live <= 0 || this.#contended) this.#schedule();
    else this.#armReleaseTimer();
  }

  #armReleaseTimer(): void {
    if (this.#releaseTimer) return;
    this.#releaseTimer = true;
    this.track(
      new Promise((r) => setTimeout(r, RELEASE_FLUSH_MS)).then(() => {
        this.#releaseTimer = false;
        return this.#flush();
      }),
    );
  }

  /** The request is over: unused leases ahead go back, pending releases are sent now. */
  finish(): Promise<void> {
    this.#finished = true;
    this.#expected = [];
    this.#giveBackAhead(false);
    return this.#flush();
  }

  #giveBackAhead(reexpect = true): void {
    for (const [url, grants] of this.#prepared) {
      for (const g of grants) {
        if (g.kind !== 'go') continue;
        this.#live--;
        this.#releases.push({ leaseId: g.leaseId, status: null, failure: 'cancelled', unused: true });
        if (reexpect) this.#expected.push(url);
      }
    }
    this.#prepared.clear();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A macrotask later: pages started together by the engine's pool join one call.
    this.track(
      new Promise((r) => setTimeout(r, 0)).then(() => {
        this.#scheduled = false;
        return this.#flush();
      }),
    );
  }

  async #flush(): Promise<void> {
    if (this.#calling) return;
    const batch = this.#waiting.splice(0);
    const releases = this.#releases.splice(0);
    if (!batch.length) {
      if (releases.length) await this.#sendReleases(releases);
      return;
    }
    const ahead = this.#spaced || this.#finished ? [] : this.#expected.filter((u) => !batch.some((w) => w.url === u)).slice(0, MAX_AHEAD);
    this.#calling = true;
    let answer: AcquireManyAnswer;
    try {
      answer = await this.stub.acquireMany({
        ...this.base,
        urls: batch.map((w) => w.url),
        ahead,
        mayWait: this.#live <= 0,
        ...(releases.length ? { releases } : {}),
      });
    } catch (error) {
      this.#calling = false;
      if (releases.length) console.error('polite: a lease release failed (it expires by itself)', { count: releases.length });
      for (const w of batch) w.reject(error);
      if (this.#waiting.length) this.#schedule();
      return;
    }
    this.#calling = false;
    const now = Date.now();
    this.#spaced ||= answer.spaced;
    this.#contended = answer.contended;
    batch.forEach((w, i) => {
      const a = answer.answers[i] ?? { kind: 'busy', retryAfterMs: 1000, reason: 'no answer from the host pacer' };
      if (a.kind === 'later') return void this.#parked.push(w);
      if (a.kind === 'go') {
        this.#live++;
        w.resolve({ kind: 'go', leaseId: a.leaseId, startAt: now + a.waitMs });
      } else w.resolve(a);
    });
    ahead.forEach((url, i) => {
      const a = answer.ahead[i];
      if (!a) return;
      const k = this.#expected.indexOf(url);
      if (k >= 0) this.#expected.splice(k, 1);
      if (a.kind === 'go') this.#live++;
      const grant: Grant = a.kind === 'go' ? { kind: 'go', leaseId: a.leaseId, startAt: now + a.waitMs } : a;
      const list = this.#prepared.get(url);
      if (list) list.push(grant);
      else this.#prepared.set(url, [grant]);
    });
    // Parked pages with none of our leases left to end would wait forever: ask again now.
    if (this.#parked.length && this.#live <= 0) this.#waiting.push(...this.#parked.splice(0));
    if (this.#finished) this.#giveBackAhead(false);
    if (this.#waiting.length || (this.#releases.length && (this.#live <= 0 || this.#contended))) await this.#flush();
    else if (this.#releases.length) this.#armReleaseTimer();
  }

  async #sendReleases(notes: ReleaseNote[]): Promise<void> {
    try {
      await this.stub.release(notes);
    } catch (error) {
      console.error('polite: a lease release failed (it expires by itself)', { count: notes.length, error: String(error) });
    }
  }
}
