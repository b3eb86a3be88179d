/**
 * What the crawl-option checker (check.ts) takes and answers: the caller's context, each problem
 * with its JSON path and kind, and the rebuilt body with the permissions its fields used.
 */
import type { Permission } from '../../auth/rbac';
import type { OptionLimits } from './kinds';

export interface CheckContext {
  permissions: readonly Permission[];
  /** The caller's tenant: every session id is forwarded as `<tenant>~<id>`. */
  tenant?: string;
  allowPrivateTargets: boolean;
  limits: OptionLimits;
  /** Crawl4AI `raw:` HTML targets accepted where the table allows them (edge and origin crawl routes; not jobs). */
  allowRawHtml?: boolean;
}

/**
 * `invalid` (wrong shape or bound), `unknown` (field or type not in the table), `never` (refused
 * for everyone) → 422 validation_failed; `url` → 422 url_not_allowed; `permission` → 403.
 */
export type IssueKind = 'invalid' | 'unknown' | 'never' | 'url' | 'permission';

export interface CheckIssue {
  path: string;
  kind: IssueKind;
  message: string;
  permission?: Permission;
}

/** `needs`: the permissions the body's fields used (beyond the route's own), e.g. `crawl:js` for `js_code`. */
export type CheckResult = { ok: true; value: Record<string, unknown>; needs: Permission[] } | { ok: false; issues: CheckIssue[] };
