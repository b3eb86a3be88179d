-- API keys managed from the admin API (docs/api-keys.md). Only an HMAC-SHA-256 digest of each key
-- (pepper API_KEY_SALT) and a short display prefix are stored; the key itself never is.
-- Times are epoch milliseconds. `expired` is computed from expires_at, never stored.
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,                       -- key_<16 base62>, public
  digest TEXT NOT NULL UNIQUE,               -- hex HMAC-SHA-256(API_KEY_SALT, key): the lookup key
  prefix TEXT NOT NULL,                      -- display only, e.g. cg_live_AbCd
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,                      -- JSON array of permission names
  rate_limit TEXT,                           -- "1000/minute"; NULL → DEFAULT_RATE_LIMIT
  max_concurrency INTEGER,
  owner TEXT,                                -- username the key acts for (tenancy)
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotated', 'revoked', 'disabled')),
  environment TEXT NOT NULL DEFAULT 'live' CHECK (environment IN ('live', 'test')),
  created_at INTEGER NOT NULL,
  created_by TEXT,                           -- principal id of the admin who created it
  expires_at INTEGER,
  revoked_at INTEGER,
  rotated_from TEXT,                         -- the key this one replaced
  rotated_to TEXT,                           -- the key that replaced this one
  grace_until INTEGER,                       -- a rotated key works until then
  last_used_at INTEGER                       -- updated at most once a minute per isolate
);
-- Listing: newest first, keyset pagination on (created_at, id), optionally by status or owner.
CREATE INDEX IF NOT EXISTS api_keys_by_created ON api_keys (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS api_keys_by_status ON api_keys (status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS api_keys_by_owner ON api_keys (owner, created_at DESC, id DESC);
