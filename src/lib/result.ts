/**
 * One shape for an outcome that may fail without throwing (the workers-oauth-provider `Result`
 * habit): pure validators and parsers return it, callers branch on `ok`. The error is a value the
 * caller maps to its own message or HTTP answer.
 */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
