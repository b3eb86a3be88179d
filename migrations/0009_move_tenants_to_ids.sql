-- Tenancy by immutable id (docs/storage.md "Tenants"). Before this migration a tenant was
-- `user:<username>` or `key:<key id>`, and a key's `owner` was a username, so a deleted user's name
-- created again inherited the old account's jobs, results, exports and usage. From here a tenant is
-- an id: the user's `usr_...`, the owning user's id for a key with an owner, else the key's own id.
--
-- How each old `user:<name>` row is moved:
--   * made by the user itself (principal_id is a `usr_...` id): that id, whether or not the user
--     still exists — exact, and no later account can ever have it;
--   * made by a key acting for `<name>`: the id of the user named exactly `<name>` (case-sensitive,
--     as the old comparison was) who already existed when that key was created; when there is none
--     (the user was deleted, or the name was created again later) the row becomes
--     `orphan:user:<name>`, which no account can ever be: orphaned rows are not inherited.
--   * MCP sessions (no principal recorded, and at most a day old): the same name rule, by the
--     session's own creation time.
-- Keys get the same rule for `owner` (by the key's creation time), after the rows above used it.
-- `key:<id>` becomes `<id>`. Audit rows already name actors by id (actor_id) and are hash-chained,
-- so they are not rewritten.

UPDATE jobs SET tenant = CASE
    WHEN principal_id LIKE 'usr\_%' ESCAPE '\' THEN principal_id
    ELSE COALESCE(
      (SELECT u.id FROM users u WHERE u.username = substr(jobs.tenant, 6) AND u.username = substr(jobs.tenant, 6) COLLATE BINARY
         AND u.created_at <= COALESCE((SELECT k.created_at FROM api_keys k WHERE k.id = jobs.principal_id), jobs.created_at)),
      'orphan:' || jobs.tenant)
  END
  WHERE tenant LIKE 'user:%';

UPDATE exports SET tenant = CASE
    WHEN principal_id LIKE 'usr\_%' ESCAPE '\' THEN principal_id
    ELSE COALESCE(
      (SELECT u.id FROM users u WHERE u.username = substr(exports.tenant, 6) AND u.username = substr(exports.tenant, 6) COLLATE BINARY
         AND u.created_at <= COALESCE((SELECT k.created_at FROM api_keys k WHERE k.id = exports.principal_id), exports.created_at)),
      'orphan:' || exports.tenant)
  END
  WHERE tenant LIKE 'user:%';

UPDATE usage_hourly SET tenant = CASE
    WHEN principal_id LIKE 'usr\_%' ESCAPE '\' THEN principal_id
    ELSE COALESCE(
      (SELECT u.id FROM users u WHERE u.username = substr(usage_hourly.tenant, 6) AND u.username = substr(usage_hourly.tenant, 6) COLLATE BINARY
         AND u.created_at <= COALESCE((SELECT k.created_at FROM api_keys k WHERE k.id = usage_hourly.principal_id), usage_hourly.first_at)),
      'orphan:' || usage_hourly.tenant)
  END
  WHERE tenant LIKE 'user:%';

UPDATE crawl_tasks SET tenant = CASE
    WHEN principal_id LIKE 'usr\_%' ESCAPE '\' THEN principal_id
    ELSE COALESCE(
      (SELECT u.id FROM users u WHERE u.username = substr(crawl_tasks.tenant, 6) AND u.username = substr(crawl_tasks.tenant, 6) COLLATE BINARY
         AND u.created_at <= COALESCE((SELECT k.created_at FROM api_keys k WHERE k.id = crawl_tasks.principal_id), crawl_tasks.created_at)),
      'orphan:' || crawl_tasks.tenant)
  END
  WHERE tenant LIKE 'user:%';

UPDATE mcp_sessions SET tenant = COALESCE(
    (SELECT u.id FROM users u WHERE u.username = substr(mcp_sessions.tenant, 6) AND u.username = substr(mcp_sessions.tenant, 6) COLLATE BINARY
       AND u.created_at <= mcp_sessions.created_at),
    'orphan:' || mcp_sessions.tenant)
  WHERE tenant LIKE 'user:%';

UPDATE jobs SET tenant = substr(tenant, 5) WHERE tenant LIKE 'key:%';
UPDATE exports SET tenant = substr(tenant, 5) WHERE tenant LIKE 'key:%';
UPDATE usage_hourly SET tenant = substr(tenant, 5) WHERE tenant LIKE 'key:%';
UPDATE crawl_tasks SET tenant = substr(tenant, 5) WHERE tenant LIKE 'key:%';
UPDATE mcp_sessions SET tenant = substr(tenant, 5) WHERE tenant LIKE 'key:%';

UPDATE api_keys SET owner = COALESCE(
    (SELECT u.id FROM users u WHERE u.username = api_keys.owner AND u.username = api_keys.owner COLLATE BINARY
       AND u.created_at <= api_keys.created_at),
    'orphan:user:' || api_keys.owner)
  WHERE owner IS NOT NULL;

-- Why a job is paused when the gateway paused it (docs/jobs.md "Principal re-check"):
-- `principal_revoked` or `principal_disabled`; NULL for a pause the owner asked for.
ALTER TABLE jobs ADD COLUMN status_reason TEXT;
