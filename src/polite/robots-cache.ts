/**
 * The robots.txt cache of one HostPacer object: one stored record per origin of its host (in the
 * object's SQLite), fetched once when missing or expired (concurrent callers share the fetch), and
 * the parsed rules kept in memory per fetch.
 */
import { botAuthHeaders } from './bot-auth';
import type { BotAuthKey } from './bot-auth-keys';
import { fetchRobots } from './robots-fetch';
import { parseRobots, type ParsedRobots, type RobotsRecord } from './robots-rules';
import type { AcquireRequest } from './pacer-types';

export class RobotsCache {
  readonly #sql: SqlStorage;
  /** The Web Bot Auth keys robots fetches are signed with (read when a fetch starts). */
  readonly #botKeys: () => readonly BotAuthKey[];
  #parsed = new Map<string, { fetchedAt: number; parsed: ParsedRobots }>();
  #fetches = new Map<string, Promise<RobotsRecord>>();

  constructor(sql: SqlStorage, botKeys: () => readonly BotAuthKey[]) {
    this.#sql = sql;
    this.#botKeys = botKeys;
  }

  /** The cached record for `origin`, fetched once (concurrent callers share the fetch) when missing or expired. */
  async record(origin: string, req: Pick<AcquireRequest, 'userAgent' | 'allowPrivateTargets' | 'agentUrl'>): Promise<RobotsRecord> {
    const row = this.#sql.exec<{ record: string }>('SELECT record FROM robots WHERE origin = ?', origin).toArray()[0];
    const cached = row ? (JSON.parse(row.record) as RobotsRecord) : null;
    if (cached && cached.expiresAt > Date.now()) return cached;
    let pending = this.#fetches.get(origin);
    if (!pending) {
      const keys = this.#botKeys();
      pending = fetchRobots(origin, {
        userAgent: req.userAgent,
        allowPrivateTargets: req.allowPrivateTargets,
        sign: (url) => botAuthHeaders(url, 'GET', { keys, agentUrl: req.agentUrl }),
        previous: cached,
      }).then((record) => {
        this.#sql.exec(
          'INSERT INTO robots (origin, record) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET record = excluded.record',
          origin,
          JSON.stringify(record),
        );
        return record;
      });
      this.#fetches.set(origin, pending);
      void pending.finally(() => this.#fetches.delete(origin));
    }
    return pending;
  }

  /** The parsed rules of a `rules` record (parsed once per fetch), else null. */
  parsed(origin: string, record: RobotsRecord): ParsedRobots | null {
    if (record.kind !== 'rules') return null;
    const hit = this.#parsed.get(origin);
    if (hit && hit.fetchedAt === record.fetchedAt) return hit.parsed;
    const parsed = parseRobots(origin, record.body);
    this.#parsed.set(origin, { fetchedAt: record.fetchedAt, parsed });
    return parsed;
  }
}
