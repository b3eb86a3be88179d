-- MCP SSE sessions (Crawl4AI's `session_id`) bound to the tenant that opened them, so another
-- tenant cannot post tool calls into someone else's session. Written by GET /mcp/sse.
CREATE TABLE IF NOT EXISTS mcp_sessions (
  session_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mcp_sessions_created ON mcp_sessions (created_at);
