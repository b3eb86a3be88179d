-- OAuth grants given to MCP clients on the consent page (docs/mcp.md "OAuth"). The token records
-- live in OAUTH_KV (@cloudflare/workers-oauth-provider); this row is the source of truth for who
-- granted what, and is read with the user's row on every OAuth-authenticated request, so a revoke
-- (revoked_at set) stops the next call everywhere at once — KV deletion follows it.
CREATE TABLE IF NOT EXISTS oauth_grants (
  id TEXT PRIMARY KEY,                -- gr_<random>, carried in the grant's encrypted props
  user_id TEXT NOT NULL,              -- usr_... (immutable; a deleted user's grants stop working)
  client_id TEXT NOT NULL,
  client_name TEXT NOT NULL,          -- self-asserted by the client at registration: data, never markup
  redirect_host TEXT NOT NULL,
  scopes TEXT NOT NULL,               -- JSON array of permission names granted
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoked_reason TEXT                 -- revoked | replaced
);
CREATE INDEX IF NOT EXISTS idx_oauth_grants_user ON oauth_grants (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_oauth_grants_created ON oauth_grants (created_at DESC, id);
