/**
 * JSON value tests the crawl-option checker (check.ts) walks with (pure): plain objects, own-property
 * lookups, data-only assignment, Crawl4AI's `{"type": "dict"}` wrapper and typed-object forms, and
 * which JSON shape an option expects.
 */
import type { ValueSpec } from './kinds';

export type Plain = Record<string, unknown>;

export function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own-property lookup: `fields["__proto__"]` or `fields.constructor` never match by inheritance. */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function setData(target: Plain, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Crawl4AI's `{"type": "dict", "value": {...}}` wrapper (to_serializable_dict's form of a dict). */
export function dictWrapped(v: Plain): Plain | null {
  const keys = Object.keys(v);
  return keys.length === 2 && v.type === 'dict' && isPlain(v.value) ? v.value : null;
}

/** A dict Crawl4AI's `from_serializable_dict` would turn into an object instead of data. */
export function looksTyped(v: Plain): boolean {
  return Object.hasOwn(v, 'type') && (Object.hasOwn(v, 'params') || (v.type === 'dict' && Object.hasOwn(v, 'value')));
}

/** Whether `v` has the JSON type an option expects (so `either` reports the right option's problem). */
export function shapeMatches(spec: ValueSpec, v: unknown): boolean {
  if (v === null) return true;
  switch (spec.kind) {
    case 'bool':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number';
    case 'string':
    case 'url':
    case 'session':
      return typeof v === 'string';
    case 'list':
      return Array.isArray(v);
    case 'either':
      return spec.options.some((o) => shapeMatches(o, v));
    case 'enum':
      return typeof v === 'string' || isPlain(v);
    default:
      return isPlain(v);
  }
}
