/**
 * Vars and secrets the workers test project runs with. The secrets are random-looking test-only
 * values generated for this file; they protect nothing.
 */
export const TEST_VARS = {
  ENVIRONMENT: 'test',
  // Explicit, so a developer's .dev.vars (which `npm run dev` writes with private targets allowed) cannot change what tests see.
  ALLOW_PRIVATE_TARGETS: 'false',
  JWT_SECRET_KEY: 'test-jwt-secret-5f1c9a7e2b8d4c6f0a3e9b7d1c5f8a2e',
  API_KEY_SALT: 'test-api-key-salt-9d2f7b4a1c8e6f3b0a5d2c9e7f1b4a8d',
  ORIGIN_SECRET: 'test-origin-secret-3b8e1f6a9c2d5e0b7f4a1c8d3e6b9f2a',
  TRUSTED_HOSTS: 'crawlgate.test,localhost',
  CORS_ORIGINS: 'https://app.example.com',
  METRICS_ALLOW_CIDRS: '10.1.0.0/16,2001:db8::/32',
  ADMIN_ALLOW_CIDRS: '',
  MAX_BODY_BYTES: '65536',
  // Generous limits so suites sharing one client address are not throttled; test/ratelimit/ sets
  // its own low limits per env (docs/rate-limits.md).
  IP_RATE_LIMIT: '100000/minute',
  LOGIN_RATE_LIMIT: '10000/minute',
  // Jobs: small batches and slots so scheduling (priority, limits) is visible on small jobs; fast retries.
  JOB_CONCURRENCY: '3',
  JOB_TENANT_CONCURRENCY: '3',
  JOB_CONCURRENCY_PER_JOB: '3',
  JOB_BATCH_SIZE: '10',
  JOB_RETRY_BASE_MS: '50',
  JOB_LEASE_MS: '5000',
  // Polite crawling: a test-only Web Bot Auth key (signs every edge request), and no spacing on the
  // shared fixture site so suites that are not about pacing keep their speed; test/polite/ sets its own.
  WEB_BOT_AUTH_KEYS:
    '[{"kty":"OKP","crv":"Ed25519","x":"70UJW6sv0TadivuG_c_QAnGjr8jDGh5rjTb5Qyyq_aI","d":"U5mKknCyHXi6MqPbTgPtOuXviKR4M5LvUoe-WksRnFw"}]',
  HOST_MIN_DELAY_MS: '0',
  HOST_MAX_CONCURRENCY: '100',
  // The shared fixture site answers many deliberate 5xx (jobs retry tests): no circuit break there.
  HOST_CIRCUIT_THRESHOLD: '1000',
  // Audit: four shards so every audit suite runs across shards; a test-only Ed25519 checkpoint key.
  AUDIT_SHARDS: '4',
  AUDIT_CHECKPOINT_KEY:
    '{"kty":"OKP","crv":"Ed25519","x":"RzvU5bv3Ree35rVDqes8nnT8UcAmeGu8YxylpOvIIYA","d":"yHpW2SmMnmdxZ6iNE2QlqFKDLET8o-zitiUmSqlkb88"}',
  ROUTE_RATE_LIMITS: '{"api":"2000/second","playground":"2000/second","health":"2000/second"}',
} as const;

/** Base URL for requests in tests (a trusted HTTPS host). */
export const BASE = 'https://crawlgate.test';
