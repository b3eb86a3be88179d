-- Users who log in with a password (POST /auth/token). Times are Unix milliseconds.
-- username is unique case-insensitively so "Admin" cannot shadow "admin".
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,                          -- usr_<random>
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,                  -- argon2id PHC string, never a password
  roles TEXT NOT NULL DEFAULT '[]',             -- JSON array of role names
  disabled INTEGER NOT NULL DEFAULT 0,
  password_changed_at INTEGER NOT NULL,
  tokens_valid_after INTEGER NOT NULL DEFAULT 0, -- access tokens issued before this instant are refused
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
