-- Audit log (docs/audit.md). One row per security decision, hash-chained by the single writer,
-- the `AuditLog` Durable Object "chain:global", which assigns `id` (the chain sequence number).
-- hash = SHA-256 over a canonical encoding of the row's content, its id and `prev_hash`.
CREATE TABLE IF NOT EXISTS audit_events (
  id INTEGER PRIMARY KEY,          -- chain sequence number (1, 2, 3, ...), assigned by the DO
  ts INTEGER NOT NULL,             -- UTC, milliseconds since the epoch
  request_id TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  actor_kind TEXT NOT NULL,        -- user | key | anonymous
  actor_name TEXT,                 -- user-supplied display name: data, never markup
  ip TEXT,
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,           -- success | failure | denied | error
  reason TEXT,
  status INTEGER,
  details TEXT,                    -- small JSON object, no secrets
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
-- Dashboard filters; every query orders by (ts DESC, id DESC) and SQLite appends the rowid (id)
-- to each index, so these serve the filter, the order and the cursor together.
CREATE INDEX IF NOT EXISTS idx_audit_events_ts ON audit_events (ts);
CREATE INDEX IF NOT EXISTS idx_audit_events_actor_ts ON audit_events (actor_id, ts);
CREATE INDEX IF NOT EXISTS idx_audit_events_actor_name_ts ON audit_events (actor_name, ts);
CREATE INDEX IF NOT EXISTS idx_audit_events_action_ts ON audit_events (action, ts);
CREATE INDEX IF NOT EXISTS idx_audit_events_outcome_ts ON audit_events (outcome, ts);

-- Where verification starts after retention pruned the oldest rows: the last pruned row's id and hash.
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  chain TEXT PRIMARY KEY,          -- 'chain:global'
  seq INTEGER NOT NULL,            -- id of the last pruned row
  hash TEXT NOT NULL,              -- its hash: the prev_hash of the oldest remaining row
  pruned_at INTEGER NOT NULL       -- UTC ms of the pruning run
);
