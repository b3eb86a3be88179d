/**
 * The kinds of variable the config schema (src/config.ts) is built from: strong secrets, optional
 * strings, booleans, bounded integers, comma lists, CIDR lists, rate limits, JSON vars and origins.
 * Each parses a raw string var and reports a problem with a message that never repeats a secret.
 */
import { z } from 'zod';
import { parseCidrList } from './http/cidr';
import { parseRateLimit } from './ratelimit/limit-spec';
import { err, ok, type Result } from './lib/result';

const MIN_SECRET_BYTES = 32;
export const SECRET_HELP = 'generate one with `npm run secrets` (or `openssl rand -base64 48`) and set it with `wrangler secret put`';

/** Strings that show up in tutorials and .env.example files; never accepted as secrets. */
const PLACEHOLDER = /^(change[-_ ]?me|changeit|secret|password|your[-_].*|xxx+|test|example|default)$/i;

/** A secret is weak when it is short, a placeholder, or has too few distinct characters. */
export function secretWeakness(value: string): string | null {
  const bytes = new TextEncoder().encode(value).length;
  if (bytes < MIN_SECRET_BYTES) return `is ${bytes} bytes; at least ${MIN_SECRET_BYTES} are required`;
  if (PLACEHOLDER.test(value) || value.toLowerCase().includes('change-me')) return 'is a placeholder value';
  if (new Set(value).size < 12) return 'has too few distinct characters to be random';
  return null;
}

export const strongSecret = z.string({ error: `is missing; ${SECRET_HELP}` }).superRefine((v, ctx) => {
  const weak = secretWeakness(v);
  if (weak) ctx.addIssue({ code: 'custom', message: `${weak}; ${SECRET_HELP}` });
});

export const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const bool = (dflt: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return dflt;
      if (/^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    });

export const int = (dflt: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return dflt;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

export const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const cidrs = (dflt: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseCidrList(v ?? dflt);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    });

export const rateLimit = (dflt: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const parsed = parseRateLimit(v && v.trim() !== '' ? v : dflt);
      if (!parsed) {
        ctx.addIssue({ code: 'custom', message: 'must look like "100/minute" (second, minute, hour or day)' });
        return z.NEVER;
      }
      return parsed;
    });

/** A JSON var parsed by `parse` into its value, or a message naming what is wrong (the config problem). */
export const jsonVar = <T>(parse: (v: string | undefined) => Result<T>) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const parsed = parse(v);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed.value;
    });

/** Adapts a parser that answers its value or a message string to `jsonVar`. */
export const valueOrMessage =
  <T>(parse: (v: string | undefined) => T | string) =>
  (v: string | undefined): Result<T> => {
    const parsed = parse(v);
    return typeof parsed === 'string' ? err(parsed) : ok(parsed);
  };

/** Blank is unset. */
export const nonBlank = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

export const originOrigin = z.string().transform((v, ctx) => {
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
    if (u.origin === 'null') throw new Error();
    return u.origin;
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not an origin like https://app.example.com` });
    return z.NEVER;
  }
});
