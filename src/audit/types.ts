/** The audit event contract every module writes through `audit()` (SECURITY.md "Audit log"). */
export const AUDIT_ACTIONS = [
  'login_succeeded',
  'login_failed',
  'token_refreshed',
  'refresh_reuse_detected',
  'logout',
  'key_created',
  'key_rotated',
  'key_revoked',
  'key_changed',
  'key_validated',
  'auth_failed',
  'permission_denied',
  'rate_limited',
  'crawl_requested',
  'job_created',
  'job_cancelled',
  'job_paused',
  'job_resumed',
  'user_created',
  'user_changed',
  'user_deleted',
  'ip_denied',
  'config_error',
  'audit_exported',
  'audit_verified',
  'export_requested',
  'export_streamed',
  'export_denied',
  // MCP at the edge (docs/mcp.md): one row per tool call, and OAuth grants like keys.
  'mcp_tool_called',
  'grant_created',
  'grant_revoked',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export type AuditOutcome = 'success' | 'failure' | 'denied' | 'error';
export type ActorKind = 'user' | 'key' | 'anonymous';

export interface AuditActor {
  id: string;
  kind: ActorKind;
  /** Display name (username / key name). User-supplied: stored as data. */
  name?: string;
}

/** What a caller hands to `audit()`. Never put a secret (password, key, token) in here. */
export interface AuditInput {
  action: AuditAction;
  outcome: AuditOutcome;
  /** Machine reason, e.g. `unknown_key`, `expired`, `revoked`, `bad_password`. */
  reason?: string;
  /** HTTP status the client got (defaults to the response status when known). */
  status?: number;
  /** Defaults to the authenticated principal, else anonymous. */
  actor?: AuditActor;
  /** Small JSON details (ids, counts). No secrets. */
  details?: Record<string, unknown>;
}

/** A fully-populated event as it is written to storage. */
export interface AuditEvent {
  ts: number;
  request_id: string;
  actor_id: string;
  actor_kind: ActorKind;
  actor_name: string | null;
  ip: string | null;
  method: string;
  route: string;
  action: AuditAction;
  outcome: AuditOutcome;
  reason: string | null;
  status: number | null;
  details: string | null;
}

/** A stored row: the event plus its place in the hash chain (docs/audit.md "Tamper evidence"). */
export interface AuditRow extends AuditEvent {
  /** Chain sequence number, assigned by the `AuditLog` Durable Object (1, 2, 3, ...). */
  id: number;
  prev_hash: string;
  hash: string;
}
