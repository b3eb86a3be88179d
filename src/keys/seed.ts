/**
 * Seed compatibility: keys from the `API_KEYS` secret in the seed's JSON format
 * `{"key1":{"key":"sk-prod-...","name":"...","rate_limit":"1000/minute","scopes":["crawl"]}}`.
 * They authenticate as `seed_<name>` with the seed's defaults (name "Unknown", scopes ["crawl"]).
 * Their digests are computed once per isolate and config; the plain keys are dropped right after.
 * They live in configuration, not D1: revoking one writes a permanent KV marker.
 */
import type { Config } from '../config';
import { displayPrefix } from './format';
import { parseSeedKeys } from './seed-keys';
import { digestKey } from './digest';
import { constantTimeEqual } from '../lib/constant-time';
import type { ApiKeyRecord } from './record';

interface SeedEntry {
  digest: string;
  record: ApiKeyRecord;
  scopes: string[];
}

const indexes = new WeakMap<Config, Promise<SeedEntry[]>>();

async function buildIndex(config: Config): Promise<SeedEntry[]> {
  const parsed = parseSeedKeys(config.API_KEYS);
  if (!parsed.ok) return []; // config validation already refused this; fail closed
  return Promise.all(
    parsed.keys.map(async (k) => ({
      digest: await digestKey(config.API_KEY_SALT, k.key),
      scopes: k.scopes,
      record: {
        id: k.id,
        prefix: displayPrefix(k.key),
        name: k.name,
        scopes: k.permissions,
        rate_limit: k.rateLimit,
        max_concurrency: k.maxConcurrency,
        owner: null,
        status: 'active' as const,
        environment: 'seed' as const,
        created_at: 0,
        created_by: 'API_KEYS',
        expires_at: null,
        revoked_at: null,
        rotated_from: null,
        rotated_to: null,
        grace_until: null,
        last_used_at: null,
      },
    })),
  );
}

function seedIndex(config: Config): Promise<SeedEntry[]> {
  let index = indexes.get(config);
  if (!index) {
    index = buildIndex(config);
    indexes.set(config, index);
  }
  return index;
}

/** The seed key whose digest matches; every entry is compared in constant time (no early exit). */
export async function matchSeedKey(config: Config, digest: string): Promise<SeedEntry | null> {
  let found: SeedEntry | null = null;
  for (const entry of await seedIndex(config)) {
    if (constantTimeEqual(entry.digest, digest)) found = entry;
  }
  return found;
}

/** A seed key by its id (`seed_key1`), for the admin API. */
export async function findSeedKey(config: Config, id: string): Promise<SeedEntry | null> {
  return (await seedIndex(config)).find((e) => e.record.id === id) ?? null;
}

/** Every seed key's record (no key, no digest), for `GET /admin/keys?source=config`. */
export async function listSeedKeys(config: Config): Promise<ApiKeyRecord[]> {
  return (await seedIndex(config)).map((e) => e.record);
}

export function isSeedKeyId(id: string): boolean {
  return id.startsWith('seed_');
}
