/**
 * Roles → permissions (shared/API.md "Roles → permissions"). API-key scopes use the same names.
 * Pure: no I/O. Code-running crawl fields (`crawl:js`) are granted by no default role — not even
 * admin — so running scripts on the crawler is always an explicit grant (SECURITY.md "Crawl requests").
 */
export const PERMISSIONS = [
  'crawl:run',
  'crawl:screenshot',
  'crawl:pdf',
  'crawl:js',
  // Crawl-option capabilities (docs/crawling.md "Crawl options"): LLM use, custom proxies,
  // custom headers/cookies, deep crawls beyond the safe bound or off the start domain.
  'crawl:llm',
  'crawl:proxy',
  'crawl:headers',
  'crawl:deep',
  // Lets a request turn off robots.txt (`"ignore_robots": true`); only admin holds it by default (docs/polite-crawling.md).
  'crawl:ignore-robots',
  'jobs:write',
  'jobs:read',
  'keys:read',
  'keys:manage',
  /** Self-service keys (`/keys`): create and manage one's own keys, within one's own permissions. */
  'keys:self',
  'users:manage',
  'audit:read',
  'metrics:read',
  // Per-target-host state (GET /admin/hosts): pacing, backoff, robots.txt cache. Admin by default.
  'hosts:read',
  // Crawl4AI's /monitor/* (docs/crawling.md "Crawl4AI 0.9 routes"): read the origin's monitor; run its actions. Admin by default.
  'monitor:read',
  'monitor:manage',
  'playground:access',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'operator', 'user', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Seed scope names accepted as aliases on API keys. */
export const SCOPE_ALIASES: Record<string, Permission> = {
  crawl: 'crawl:run',
  screenshot: 'crawl:screenshot',
  pdf: 'crawl:pdf',
};

export const DEFAULT_ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS.filter((p) => p !== 'crawl:js'),
  operator: [
    'crawl:run',
    'crawl:screenshot',
    'crawl:pdf',
    'crawl:llm',
    'crawl:proxy',
    'crawl:headers',
    'crawl:deep',
    'jobs:write',
    'jobs:read',
    'keys:read',
    'keys:self',
    'audit:read',
    'metrics:read',
    'playground:access',
  ],
  user: ['crawl:run', 'crawl:screenshot', 'crawl:pdf', 'jobs:write', 'jobs:read', 'keys:self', 'playground:access'],
  viewer: ['jobs:read', 'audit:read'],
};

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Normalises scope names (aliases, `crawl:*` wildcards); unknown names → null so callers can refuse them. */
export function normalizeScopes(scopes: readonly string[]): Permission[] | null {
  const out = new Set<Permission>();
  for (const raw of scopes) {
    const s = raw.trim();
    const alias = SCOPE_ALIASES[s];
    if (alias) out.add(alias);
    else if (isPermission(s)) out.add(s);
    else if (s.endsWith(':*')) {
      const prefix = s.slice(0, -1);
      // `crawl:*` never implies the explicit grants: running code, ignoring robots.txt.
      const matched = PERMISSIONS.filter((p) => p.startsWith(prefix) && p !== 'crawl:js' && p !== 'crawl:ignore-robots');
      if (matched.length === 0) return null;
      matched.forEach((p) => out.add(p));
    } else return null;
  }
  return [...out];
}

/** The union of the roles' permissions under a role table (default or configured). */
export function permissionsForRoles(
  roles: readonly Role[],
  table: Record<Role, readonly Permission[]> = DEFAULT_ROLE_PERMISSIONS,
): Permission[] {
  const out = new Set<Permission>();
  for (const r of roles) for (const p of table[r] ?? []) out.add(p);
  return [...out];
}

/** Parses a `ROLE_PERMISSIONS` override: `{"operator":["crawl:*","jobs:*"],...}`; missing roles keep defaults. */
export function parseRolePermissions(json: string | undefined): Record<Role, readonly Permission[]> | string {
  if (!json) return DEFAULT_ROLE_PERMISSIONS;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return 'is not valid JSON';
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'must be an object of role → permission list';
  const table: Record<Role, readonly Permission[]> = { ...DEFAULT_ROLE_PERMISSIONS };
  for (const [role, perms] of Object.entries(raw as Record<string, unknown>)) {
    if (!isRole(role)) return `names an unknown role "${role}"`;
    if (!Array.isArray(perms) || !perms.every((p) => typeof p === 'string')) return `role "${role}" must map to a list of names`;
    const normalized = normalizeScopes(perms as string[]);
    if (!normalized) return `role "${role}" names an unknown permission`;
    table[role] = normalized;
  }
  return table;
}
