/**
 * One error class and one renderer: every failure leaves as RFC 9457 problem JSON
 * `{type,title,status,detail,code,request_id}`. `detail` keeps FastAPI/Crawl4AI clients working.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, title: 'Bad request' },
  invalid_json: { status: 400, title: 'Malformed JSON body' },
  ambiguous_credentials: { status: 400, title: 'Conflicting credentials' },
  token_in_query: { status: 400, title: 'Credentials in the query string are refused' },
  invalid_host: { status: 400, title: 'Host not served here' },
  ambiguous_path: { status: 400, title: 'Ambiguous request path' },
  invalid_credentials: { status: 401, title: 'Invalid credentials' },
  invalid_token: { status: 401, title: 'Invalid token' },
  token_expired: { status: 401, title: 'Token expired' },
  token_revoked: { status: 401, title: 'Token revoked' },
  quota_exhausted: { status: 402, title: 'Quota exhausted' },
  insufficient_scope: { status: 403, title: 'Insufficient scope' },
  forbidden: { status: 403, title: 'Forbidden' },
  ip_not_allowed: { status: 403, title: 'Client address not allowed' },
  cors_origin_denied: { status: 403, title: 'Origin not allowed' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  validation_failed: { status: 422, title: 'Validation failed' },
  url_not_allowed: { status: 422, title: 'Target URL not allowed' },
  too_many_urls: { status: 422, title: 'Too many URLs' },
  // docs/crawling.md "Origin profile": a field the configured Crawl4AI release refuses, stopped before any origin call.
  origin_refuses_field: { status: 400, title: 'Field refused by the origin' },
  rate_limited: { status: 429, title: 'Rate limit exceeded' },
  concurrency_limited: { status: 429, title: 'Too many requests in flight' },
  misconfigured: { status: 500, title: 'Gateway misconfigured' },
  internal_error: { status: 500, title: 'Internal error' },
  not_implemented: { status: 501, title: 'Not implemented here' },
  origin_unavailable: { status: 502, title: 'Origin unavailable' },
  limiter_unavailable: { status: 503, title: 'Rate limiter unavailable' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  origin_timeout: { status: 504, title: 'Origin timed out' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface GatewayErrorOptions {
  headers?: Record<string, string>;
  /** Extra members for the problem body (e.g. `errors` for validation, `limit`). Never secrets. */
  extras?: Record<string, unknown>;
  cause?: unknown;
}

/** The single error type thrown by middleware, routers and services. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly extras: Record<string, unknown>;

  constructor(code: ErrorCode, detail?: string, options: GatewayErrorOptions = {}) {
    super(detail ?? ERROR_CODES[code].title, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.headers = options.headers ?? {};
    this.extras = options.extras ?? {};
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
  [extra: string]: unknown;
}

/** Builds the RFC 9457 body; `type` is a stable URI under the gateway's docs. */
export function problemBody(err: GatewayError, requestId: string): ProblemBody {
  return {
    ...err.extras,
    type: `https://crawlgate.dev/problems/${err.code.replace(/_/g, '-')}`,
    title: ERROR_CODES[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    request_id: requestId,
  };
}

/** A problem+json Response (headers merged in by the security middleware later). */
export function problemResponse(err: GatewayError, requestId: string): Response {
  const headers = new Headers(err.headers);
  headers.set('Content-Type', 'application/problem+json');
  if (err.status === 401 && !headers.has('WWW-Authenticate')) {
    // RFC 6750 §3: a 401 names the scheme; token failures add error="invalid_token".
    const tokenError = err.code === 'invalid_token' || err.code === 'token_expired' || err.code === 'token_revoked';
    headers.set('WWW-Authenticate', tokenError ? 'Bearer error="invalid_token"' : 'Bearer');
  }
  return new Response(JSON.stringify(problemBody(err, requestId)), { status: err.status, headers });
}
