/**
 * The crawl-option checker (issue #16): walks a parsed body against the allow-list (table.ts) and
 * returns either the body to forward — rebuilt from the allowed fields only, never the client's
 * object — or every problem with its JSON path. Pure: the clock, config and permissions come in.
 *
 * Bounded work: depth ≤ MAX_DEPTH (the recursion cannot overflow a stack), at most MAX_NODES
 * values, and every string/list/map has a size bound in the table.
 */
import type { Permission } from '../../auth/rbac';
import { pathSegment } from '../../lib/strict-json';
import { checkTargetUrl } from '../egress';
import { isRawHtml, MAX_RAW_HTML_CHARS } from '../../engines/raw-html';
import type { FieldSpec, ValueSpec } from './kinds';
import { TYPES, bodyType, type BodyShape } from './table';
import type { CheckContext, CheckIssue, CheckResult, IssueKind } from './check-types';
import { dictWrapped, isPlain, looksTyped, own, setData, shapeMatches, type Plain } from './check-json';

export const MAX_DEPTH = 64;
export const MAX_NODES = 100_000;

export type { CheckContext, CheckIssue, CheckResult, IssueKind } from './check-types';

const DROP = Symbol('drop');
type Out = unknown | typeof DROP;

class Walker {
  readonly issues: CheckIssue[] = [];
  readonly needs = new Map<Permission, string>();
  #nodes = 0;

  constructor(readonly ctx: CheckContext) {}

  issue(path: string, kind: IssueKind, message: string, permission?: Permission): typeof DROP {
    if (this.issues.length < 50) this.issues.push({ path, kind, message, ...(permission ? { permission } : {}) });
    return DROP;
  }

  need(permission: Permission, path: string): void {
    if (!this.needs.has(permission)) this.needs.set(permission, path);
  }

  /** Checks `o` as an object of table type `type`; returns the rebuilt object. */
  object(type: string, o: Plain, path: string, depth: number, ownerPath = path): Out {
    const spec = own(TYPES, type);
    if (!spec) return this.issue(path, 'unknown', `unknown type "${type}"`);
    if (spec.permission) this.need(spec.permission, ownerPath);
    const out: Plain = {};
    for (const key of Object.keys(o)) {
      const p = path + pathSegment(key);
      const field = own(spec.fields, key);
      if (!field) {
        this.issue(p, 'unknown', `"${key}" is not a known ${type} field`);
        continue;
      }
      const v = this.field(field, o[key], o, p, depth);
      if (v !== DROP) setData(out, key, v);
    }
    for (const rule of spec.rules ?? []) {
      for (const f of rule(o, this.ctx.limits)) {
        const p = path + pathSegment(f.field);
        if (f.cls === 'never') this.issue(p, 'never', f.message);
        else if (f.permission) this.need(f.permission, p);
      }
    }
    return out;
  }

  field(field: FieldSpec, raw: unknown, parent: Plain, path: string, depth: number): Out {
    if (field.cls === 'never') return this.issue(path, 'never', `not allowed through the gateway: ${field.note}`);
    if (!field.value) return this.issue(path, 'invalid', 'no value allowed');
    const value =
      field.value.kind === 'objectBySibling'
        ? this.bySibling(field.value, raw, parent, path, depth)
        : this.value(field.value, raw, path, depth + 1);
    if (value === DROP) return DROP;
    const present = raw !== null && raw !== undefined && raw !== '' && !(Array.isArray(raw) && raw.length === 0);
    if (present) {
      if (field.cls === 'code') this.need('crawl:js', path);
      if (field.cls === 'capability' && field.permission) this.need(field.permission, path);
      const esc = field.escalate;
      if (esc && esc.applies(raw, this.ctx.limits)) {
        if (esc.cls === 'never') return this.issue(path, 'never', `not allowed through the gateway ${esc.when}`);
        this.need(esc.cls === 'code' ? 'crawl:js' : (esc.permission as Permission), path);
      }
    }
    return field.rewrite ? field.rewrite(value) : value;
  }

  bySibling(spec: Extract<ValueSpec, { kind: 'objectBySibling' }>, raw: unknown, parent: Plain, path: string, depth: number): Out {
    const chosen = parent[spec.sibling];
    const type = typeof chosen === 'string' ? own(spec.types, chosen) : undefined;
    if (!type) return this.issue(path, 'invalid', `depends on a valid "${spec.sibling}"`);
    return this.value({ kind: 'object', type }, raw, path, depth + 1);
  }

  value(spec: ValueSpec, v: unknown, path: string, depth: number): Out {
    if (depth > MAX_DEPTH) return this.issue(path, 'invalid', `nested deeper than ${MAX_DEPTH} levels`);
    if (++this.#nodes > MAX_NODES) return this.issue(path, 'invalid', `more than ${MAX_NODES} values`);
    if (v === null) return null;
    switch (spec.kind) {
      case 'bool':
        return typeof v === 'boolean' ? v : this.issue(path, 'invalid', 'must be true or false');
      case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v)) return this.issue(path, 'invalid', 'must be a number');
        if (spec.int && !Number.isInteger(v)) return this.issue(path, 'invalid', 'must be a whole number');
        return v >= spec.min && v <= spec.max ? v : this.issue(path, 'invalid', `must be from ${spec.min} to ${spec.max}`);
      case 'string':
        if (typeof v !== 'string') return this.issue(path, 'invalid', 'must be a string');
        if (v.length > spec.max || v.length < (spec.min ?? 0))
          return this.issue(path, 'invalid', `must be ${spec.min ?? 0} to ${spec.max} characters`);
        if (spec.values && !spec.values.includes(v))
          return this.issue(path, 'invalid', `must be one of ${spec.values.map((x) => JSON.stringify(x)).join(', ')}`);
        return !spec.pattern || spec.pattern.test(v) ? v : this.issue(path, 'invalid', 'has characters or a form that is not allowed');
      case 'url':
        if (spec.raw && typeof v === 'string' && isRawHtml(v)) return this.rawHtml(v, path);
        return this.url(v, path, spec.proxy === true);
      case 'session':
        if (typeof v !== 'string' || v.length > 128 || !/^[^\u0000-\u001f\u007f]*$/.test(v))
          return this.issue(path, 'invalid', 'must be a session id (≤ 128 printable characters)');
        return this.ctx.tenant && v !== '' ? tenantSessionId(this.ctx.tenant, v) : v;
      case 'list': {
        if (!Array.isArray(v)) return this.issue(path, 'invalid', 'must be a list');
        if (v.length > spec.max) return this.issue(path, 'invalid', `at most ${spec.max} items`);
        const out: unknown[] = [];
        v.forEach((item, i) => {
          const r = this.value(spec.of, item, path + pathSegment(i), depth + 1);
          if (r !== DROP) out.push(r);
        });
        return out;
      }
      case 'either':
        return this.either(spec.options, v, path, depth);
      case 'map':
        return this.map(spec, v, path, depth);
      case 'object': {
        if (!isPlain(v)) return this.issue(path, 'invalid', 'must be an object');
        const inner = dictWrapped(v);
        if (inner) {
          const r = this.object(spec.type, inner, path + pathSegment('value'), depth + 1);
          return r === DROP ? DROP : { type: 'dict', value: r };
        }
        if (looksTyped(v)) return this.issue(path, 'invalid', 'a {"type", "params"} object is not allowed here');
        return this.object(spec.type, v, path, depth + 1);
      }
      case 'objectBySibling':
        return this.issue(path, 'invalid', 'misplaced value');
      case 'typed':
        return this.typed(spec, v, path, depth);
      case 'enum': {
        if (typeof v === 'string')
          return spec.values.includes(v) ? v : this.issue(path, 'invalid', `must be one of ${spec.values.join(', ')}`);
        if (
          isPlain(v) &&
          Object.keys(v).length === 2 &&
          v.type === spec.enumType &&
          typeof v.params === 'string' &&
          spec.values.includes(v.params)
        )
          return { type: v.type, params: v.params };
        return this.issue(path, 'invalid', `must be one of ${spec.values.join(', ')}`);
      }
    }
  }

  /** A `raw:` HTML target (edge/raw-html.ts): no URL, nothing to egress-check; bounded in size. */
  rawHtml(v: string, path: string): Out {
    if (!this.ctx.allowRawHtml) return this.issue(path, 'invalid', 'raw: HTML is accepted on /crawl, /crawl/stream, /md and /html only');
    return v.length <= MAX_RAW_HTML_CHARS ? v : this.issue(path, 'invalid', `raw: HTML longer than ${MAX_RAW_HTML_CHARS} characters`);
  }

  url(v: unknown, path: string, proxy: boolean): Out {
    if (typeof v !== 'string' || v.length === 0 || v.length > 8192) return this.issue(path, 'invalid', 'must be a URL string');
    const text = proxy && !v.includes('://') ? `http://${v}` : v;
    const r = checkTargetUrl(text, { allowPrivateTargets: this.ctx.allowPrivateTargets });
    return r.ok ? r.url.href : this.issue(path, 'url', r.reason);
  }

  either(options: readonly ValueSpec[], v: unknown, path: string, depth: number): Out {
    let firstFailure: { issues: CheckIssue[] } | null = null;
    for (const option of options) {
      if (!shapeMatches(option, v)) continue;
      const trial = new Walker(this.ctx);
      trial.#nodes = this.#nodes;
      const r = trial.value(option, v, path, depth);
      if (trial.issues.length === 0 && r !== DROP) {
        this.#nodes = trial.#nodes;
        for (const [perm, p] of trial.needs) this.need(perm, p);
        return r;
      }
      firstFailure ??= trial;
    }
    if (firstFailure) {
      for (const i of firstFailure.issues) this.issues.length < 50 && this.issues.push(i);
      return DROP;
    }
    return this.issue(path, 'invalid', 'has a type that is not allowed here');
  }

  map(spec: Extract<ValueSpec, { kind: 'map' }>, v: unknown, path: string, depth: number): Out {
    if (!isPlain(v)) return this.issue(path, 'invalid', 'must be an object');
    const inner = dictWrapped(v);
    const o = inner ?? v;
    if (!inner && looksTyped(v)) return this.issue(path, 'invalid', 'a {"type", "params"} object is not allowed here');
    const keys = Object.keys(o);
    if (keys.length > spec.max) return this.issue(path, 'invalid', `at most ${spec.max} entries`);
    const base = inner ? path + pathSegment('value') : path;
    const out: Plain = {};
    for (const key of keys) {
      const p = base + pathSegment(key);
      if (!spec.key.test(key)) {
        this.issue(p, 'invalid', 'key not allowed');
        continue;
      }
      const r = this.value(spec.value, o[key], p, depth + 1);
      if (r !== DROP) setData(out, key, r);
    }
    return inner ? { type: 'dict', value: out } : out;
  }

  typed(spec: Extract<ValueSpec, { kind: 'typed' }>, v: unknown, path: string, depth: number): Out {
    if (!isPlain(v)) return this.issue(path, 'invalid', 'must be a {"type", "params"} object');
    if (Object.hasOwn(v, 'type') && v.type !== 'dict') {
      const extra = Object.keys(v).filter((k) => k !== 'type' && k !== 'params');
      if (extra.length > 0)
        return this.issue(path + pathSegment(extra[0] as string), 'unknown', 'only "type" and "params" are allowed here');
      if (typeof v.type !== 'string' || !spec.types.includes(v.type))
        return this.issue(path + pathSegment('type'), 'unknown', `must be one of ${spec.types.join(', ')}`);
      const params = v.params ?? {};
      if (!isPlain(params)) return this.issue(path + pathSegment('params'), 'invalid', 'must be an object');
      const r = this.object(v.type, params, path + pathSegment('params'), depth + 1, path);
      return r === DROP ? DROP : { type: v.type, params: r };
    }
    if (!spec.plain) return this.issue(path, 'invalid', `must be a {"type": "${spec.types[0]}", "params": {...}} object`);
    const inner = dictWrapped(v);
    if (inner) {
      const r = this.object(spec.plain, inner, path + pathSegment('value'), depth + 1, path);
      return r === DROP ? DROP : { type: 'dict', value: r };
    }
    if (Object.keys(v).length === 1 && isPlain(v.params)) {
      // `{"params": {...}}` without a type: Crawl4AI would silently ignore it; the gateway reads it
      // as the slot's type (as the edge engines do) and forwards it with that type named.
      const r = this.object(spec.plain, v.params, path + pathSegment('params'), depth + 1, path);
      return r === DROP ? DROP : { type: spec.plain, params: r };
    }
    return this.object(spec.plain, v, path, depth + 1);
  }
}

/** Pure: `session_id` as the origin sees it: `<tenant>~<id>` (idempotent for the same tenant). */
export function tenantSessionId(tenant: string, id: string): string {
  const prefix = `${tenant}~`;
  return id.startsWith(prefix) ? id : prefix + id;
}

/**
 * Checks one route body. The result's `value` is what may be forwarded; `issues` lists every
 * field outside the caller's allowance with its JSON path (`$.crawler_config.params.wait_for`).
 */
export function checkBody(shape: BodyShape, input: unknown, ctx: CheckContext): CheckResult {
  const w = new Walker(ctx);
  if (!isPlain(input)) return { ok: false, issues: [{ path: '$', kind: 'invalid', message: 'the body must be a JSON object' }] };
  const out = w.object(bodyType(shape), input, '$', 0);
  for (const [permission, path] of w.needs) {
    if (!ctx.permissions.includes(permission))
      w.issues.push({ path, kind: 'permission', message: `needs the permission "${permission}"`, permission });
  }
  if (w.issues.length > 0 || out === DROP) return { ok: false, issues: w.issues };
  return { ok: true, value: out as Record<string, unknown>, needs: [...w.needs.keys()] };
}
