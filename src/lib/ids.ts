/**
 * Prefixed random ids (`job_…`, `usr_…`, `exp_…`): a type prefix a reader (and a log search) can
 * tell apart, then hex of CSPRNG bytes (`crypto.getRandomValues`). One factory, so every id kind
 * has the same shape and entropy rules.
 */
import { toHex } from './encoding';

/** `<prefix>_<2 × bytes hex digits>`, e.g. `prefixedId('job', 12)` → `job_` + 24 hex digits. */
export function prefixedId(prefix: string, bytes: number): string {
  return `${prefix}_${toHex(crypto.getRandomValues(new Uint8Array(bytes)))}`;
}
