/** Names and limits shared by token issue and verification (RFC 9068 JWT access tokens). */

/** `iss` of every access token crawlgate signs, and the only one it accepts (RFC 7519 §4.1.1). */
export const JWT_ISSUER = 'urn:crawlgate';
/** `aud`: the gateway's API (RFC 7519 §4.1.3). */
export const JWT_AUDIENCE = 'urn:crawlgate:api';
/** RFC 9068 §2.1: access tokens carry `typ: at+jwt`, so no other JWT passes as one. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** RFC 8725 §3.10 small clock skew allowance (SECURITY.md: ≤ 60 s). */
export const CLOCK_TOLERANCE_S = 30;
/** Headers that name a key location or embed a key; tokens carrying them are refused outright. */
export const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
/** `client_id` (RFC 9068 §2.2) for tokens from the password / refresh grants and from API keys. */
export const CLIENT_ID = 'crawlgate';

/** Custom claims crawlgate adds. */
export interface CrawlgateClaims {
  /** Role names (informational: user permissions come from the current D1 row). */
  roles?: string[];
  /** Space-separated permissions (RFC 9068 §2.2.3 `scope`). */
  scope?: string;
  /** Refresh family id (user tokens), so logout can revoke the family. */
  sid?: string;
  /** Present on tokens issued from an API key by POST /token: the source of truth is the key. */
  cg_src?: 'api_key';
  /** Key name / username for display. */
  name?: string;
  /** The key's own rate limit, copied at issue. */
  rate_limit?: string;
  /** The key's crawl concurrency cap, copied at issue (so a token cannot escape its key's limits). */
  max_concurrency?: number;
  /** The key's owner (a user id, `usr_...`), copied at issue: the token acts for the same tenant as its key. */
  owner?: string;
  /**
   * The key's `expires_at` (NumericDate, whole seconds, rounded down), copied at issue. `exp` never
   * exceeds it, and the token is refused from that instant whatever the clock tolerance allows.
   */
  key_exp?: number;
}
