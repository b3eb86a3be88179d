/**
 * JSON (RFC 8259) and NDJSON encoders. JSON.stringify escapes lone surrogates (ES2019 well-formed
 * stringify), so even broken UTF-16 in crawled text round-trips through JSON.parse.
 */
import { project } from '../fields';
import type { FormatEncoder } from './types';

/** One JSON array, valid as a whole: `[` record `,` record … `]`, streamed. */
export function jsonEncoder(fields: readonly string[] | null): FormatEncoder {
  return {
    format: 'json',
    mediaType: 'application/json; charset=utf-8',
    extension: 'json',
    begin: () => '[',
    record: (r, written) => (written > 0 ? ',\n' : '\n') + JSON.stringify(project(r, fields)),
    end: (written) => (written > 0 ? '\n]\n' : ']\n'),
  };
}

/** One JSON object a line, LF-terminated (JSON escapes every CR/LF inside strings). */
export function ndjsonEncoder(fields: readonly string[] | null): FormatEncoder {
  return {
    format: 'ndjson',
    mediaType: 'application/x-ndjson; charset=utf-8',
    extension: 'ndjson',
    begin: () => '',
    record: (r) => `${JSON.stringify(project(r, fields))}\n`,
    end: () => '',
  };
}
