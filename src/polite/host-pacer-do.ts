/**
 * `HostPacer` Durable Object: one per target host (`url.host`, docs/storage.md), shared by every
 * tenant and isolate. It holds the host's pacing state (next slot, backoff, circuit), its live
 * leases, and the robots.txt cache of the host's origins. One `acquire` call per page decides
 * robots, spacing and the in-flight cap: it answers a lease with a start delay, a refusal, or
 * `busy`; callers at the in-flight cap wait here (FIFO, across tenants) until a lease ends.
 * `acquireMany` does the same for several pages of one request in one call (batched by the gate,
 * with the caller's finished leases riding along), and may lease the request's next pages ahead
 * when the host has no spacing and a free slot.
 * A DO runs one call at a time between awaits, so every check-and-reserve is atomic.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { loadConfig } from '../config';
import { productToken, robotsVerdict, ROBOTS_STALE_MAX_MS } from './robots-rules';
import { RobotsCache } from './robots-cache';
import { afterOutcome, INITIAL_STATE, plan, reserve, spacingMs, type PacerState } from './pacing';
import { hostSnapshot, type Counters } from './host-snapshot';
import type {
  AcquireAnswer,
  AcquireManyAnswer,
  AcquireManyRequest,
  AcquireRequest,
  BatchAnswer,
  HostSnapshot,
  ReleaseNote,
} from './pacer-types';

/** Alarm cadence while leases are live; idle objects check once a day and delete themselves after 30. */
const LEASE_SWEEP_MS = 5_000;
const IDLE_CHECK_MS = 24 * 3600_000;
const IDLE_DELETE_MS = ROBOTS_STALE_MAX_MS;

export class HostPacer extends DurableObject<Env> {
  #sql: SqlStorage;
  #state: PacerState = { ...INITIAL_STATE };
  #host: string | null = null;
  #counters: Counters = { requests: 0, refused: 0, busy: 0, lastStatus: null, lastSeen: 0 };
  #waiters: (() => void)[] = [];
  readonly #robotsCache: RobotsCache;
  #registered = false;
  #alarmAt: number | null | undefined;
  /** From the latest acquire (releases carry no limits). */
  #circuitThreshold: number | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#robotsCache = new RobotsCache(this.#sql, () => {
      const config = loadConfig(env);
      return config.ok ? config.config.WEB_BOT_AUTH_KEYS : [];
    });
    this.#sql.exec(
      `CREATE TABLE IF NOT EXISTS pacer (id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT, state TEXT NOT NULL, counters TEXT NOT NULL);
       CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
       CREATE TABLE IF NOT EXISTS robots (origin TEXT PRIMARY KEY, record TEXT NOT NULL);`,
    );
    const row = this.#sql
      .exec<{ host: string | null; state: string; counters: string }>('SELECT host, state, counters FROM pacer WHERE id = 1')
      .toArray()[0];
    if (row) {
      this.#host = row.host;
      this.#state = { ...INITIAL_STATE, ...(JSON.parse(row.state) as PacerState) };
      this.#counters = { ...this.#counters, ...(JSON.parse(row.counters) as Counters) };
    }
  }

  /** Robots, spacing and the in-flight cap for one page; see AcquireAnswer. */
  async acquire(req: AcquireRequest): Promise<AcquireAnswer> {
    const { answers } = await this.acquireMany({ ...req, urls: [req.url], mayWait: true });
    return answers[0] as AcquireAnswer;
  }

  /** Several pages of one request in one call (see AcquireManyRequest); releases are applied first. */
  async acquireMany(req: AcquireManyRequest): Promise<AcquireManyAnswer> {
    const first = req.urls[0] ?? req.ahead?.[0];
    if (first) this.#host ??= new URL(first).host;
    this.#circuitThreshold = req.limits.circuitThreshold;
    if (req.releases?.length) this.#applyReleases(req.releases);
    await this.#register();
    const answers: BatchAnswer[] = [];
    let granted = 0;
    for (const url of req.urls) {
      const answer = await this.#one(url, req, req.mayWait && granted === 0);
      if (answer.kind === 'go') granted++;
      answers.push(answer);
    }
    const ahead: (AcquireAnswer | null)[] = [];
    let spaced = false;
    for (const url of req.ahead ?? []) {
      const answer = spaced ? null : await this.#ahead(url, req);
      if (answer === 'spaced') {
        spaced = true;
        ahead.push(null);
      } else ahead.push(answer);
    }
    this.#persist();
    return { answers, ahead, spaced, contended: this.#waiters.length > 0 };
  }

  /** Robots for one page: its Crawl-delay, or the refusal. */
  async #robotsFor(target: URL, req: AcquireManyRequest): Promise<{ crawlDelayMs: number | null } | AcquireAnswer> {
    if (!req.respectRobots) return { crawlDelayMs: null };
    const record = await this.#robotsCache.record(target.origin, req);
    const verdict = robotsVerdict(record, this.#robotsCache.parsed(target.origin, record), target.href, productToken(req.userAgent));
    const deferred = req.deferUnreachableRobots === true && record.kind === 'disallow_all' && record.status === null;
    if (!verdict.allowed && !deferred) {
      this.#counters.refused++;
      return { kind: 'disallowed', reason: verdict.reason };
    }
    return { crawlDelayMs: verdict.crawlDelayMs };
  }

  #grant(now: number, startAt: number, req: AcquireManyRequest, crawlDelayMs: number | null): string {
    const leaseId = crypto.randomUUID();
    this.#sql.exec('INSERT INTO leases (id, expires_at) VALUES (?, ?)', leaseId, startAt + req.leaseMs);
    this.#state = reserve(this.#state, startAt, spacingMs(req.limits, crawlDelayMs));
    this.#counters.requests++;
    this.#counters.lastSeen = now;
    return leaseId;
  }

  async #one(url: string, req: AcquireManyRequest, mayWait: boolean): Promise<BatchAnswer> {
    const robots = await this.#robotsFor(new URL(url), req);
    if ('kind' in robots) return robots;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    for (;;) {
      const now = Date.now();
      const p = plan(this.#state, now, this.#inFlight(now), req.limits, Math.max(0, deadline - now));
      if (p.kind === 'go') {
        const leaseId = this.#grant(now, p.startAt, req, robots.crawlDelayMs);
        await this.#armAlarm(now + LEASE_SWEEP_MS);
        return { kind: 'go', leaseId, waitMs: p.startAt - now };
      }
      if (p.kind === 'full' && !mayWait) return { kind: 'later' };
      if (p.kind === 'busy' || now >= deadline) {
        this.#counters.busy++;
        if (p.kind === 'busy') return { kind: 'busy', retryAfterMs: p.retryAfterMs, reason: p.reason };
        return {
          kind: 'busy',
          retryAfterMs: Math.max(1, (this.#nextExpiry(now) ?? now + 1000) - now),
          reason: `host at its concurrency limit (${req.limits.maxConcurrency} in flight)`,
        };
      }
      // At the cap: wait for a release (FIFO), the earliest lease expiry, or the deadline.
      this.#persist();
      const until = Math.min(deadline, this.#nextExpiry(now) ?? deadline) - now;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, until));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.push(done);
      });
    }
  }

  /** A lease ahead of need, only when it costs the host nothing beyond a free slot (no spacing, no wait). */
  async #ahead(url: string, req: AcquireManyRequest): Promise<AcquireAnswer | null | 'spaced'> {
    const robots = await this.#robotsFor(new URL(url), req);
    if ('kind' in robots) return robots;
    if (spacingMs(req.limits, robots.crawlDelayMs) > 0) return 'spaced';
    const now = Date.now();
    const p = plan(this.#state, now, this.#inFlight(now), req.limits, 0);
    if (p.kind !== 'go' || p.startAt > now) return null;
    const leaseId = this.#grant(now, now, req, robots.crawlDelayMs);
    await this.#armAlarm(now + LEASE_SWEEP_MS);
    return { kind: 'go', leaseId, waitMs: 0 };
  }

  /** Ends leases with their outcomes (spacing, backoff and circuit follow from them). */
  async release(notes: ReleaseNote[]): Promise<void> {
    this.#applyReleases(notes);
  }

  /** The live state for admins. */
  async snapshot(): Promise<HostSnapshot> {
    const now = Date.now();
    const robots = this.#sql.exec<{ origin: string; record: string }>('SELECT origin, record FROM robots ORDER BY origin').toArray();
    return hostSnapshot({ host: this.#host, state: this.#state, counters: this.#counters, inFlight: this.#inFlight(now), robots }, now);
  }

  /** Ends expired leases (waking waiters), forgets long-idle hosts, updates the D1 index. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#alarmAt = undefined;
    const expired = this.#sql.exec('DELETE FROM leases WHERE expires_at <= ?', now).rowsWritten;
    this.#wake(expired);
    if (this.#inFlight(now) > 0) return void (await this.ctx.storage.setAlarm(now + LEASE_SWEEP_MS));
    if (this.#counters.lastSeen && now - this.#counters.lastSeen > IDLE_DELETE_MS) {
      if (this.#host) await this.env.DB.prepare('DELETE FROM crawl_hosts WHERE host = ?').bind(this.#host).run();
      await this.ctx.storage.deleteAll();
      return;
    }
    if (this.#host)
      await this.env.DB.prepare('UPDATE crawl_hosts SET last_seen = max(last_seen, ?) WHERE host = ?')
        .bind(this.#counters.lastSeen, this.#host)
        .run();
    await this.ctx.storage.setAlarm(now + IDLE_CHECK_MS);
  }

  #applyReleases(notes: ReleaseNote[]): void {
    const now = Date.now();
    let ended = 0;
    for (const n of notes) {
      const gone = this.#sql.exec('DELETE FROM leases WHERE id = ?', n.leaseId).rowsWritten;
      ended += gone;
      if (n.unused) {
        if (gone) this.#counters.requests--;
        continue;
      }
      this.#state = afterOutcome(this.#state, n, now, this.#circuitThreshold);
      if (n.status !== null) this.#counters.lastStatus = n.status;
    }
    this.#persist();
    this.#wake(Math.max(ended, notes.filter((n) => !n.unused).length));
  }

  #wake(n: number): void {
    for (let i = 0; i < n && this.#waiters.length > 0; i++) this.#waiters.shift()!();
  }

  #inFlight(now: number): number {
    return this.#sql.exec<{ n: number }>('SELECT count(*) AS n FROM leases WHERE expires_at > ?', now).one().n;
  }

  #nextExpiry(now: number): number | null {
    return this.#sql.exec<{ t: number | null }>('SELECT min(expires_at) AS t FROM leases WHERE expires_at > ?', now).one().t;
  }

  #persist(): void {
    this.#sql.exec(
      'INSERT INTO pacer (id, host, state, counters) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET host = excluded.host, state = excluded.state, counters = excluded.counters',
      this.#host,
      JSON.stringify(this.#state),
      JSON.stringify(this.#counters),
    );
  }

  /** Sets the alarm unless one is due sooner (the known alarm time is kept in memory: no read per page). */
  async #armAlarm(at: number): Promise<void> {
    if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
    if (this.#alarmAt !== null && this.#alarmAt <= at && this.#alarmAt > Date.now()) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** Adds the host to the D1 index once per object life (GET /admin/hosts lists from it). */
  async #register(): Promise<void> {
    if (this.#registered || !this.#host) return;
    const now = Date.now();
    await this.env.DB.prepare(
      'INSERT INTO crawl_hosts (host, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT (host) DO UPDATE SET last_seen = excluded.last_seen',
    )
      .bind(this.#host, now, now)
      .run();
    this.#registered = true;
  }
}
