/**
 * One anchored reading of a `Content-Type` (RFC 9110 §8.3.1), used by every reader of a request
 * body: the media-type gate, the login limiter, the body readers and the handlers. Before it, the
 * login limiter matched `includes('application/json')` and so read
 * `application/x-www-form-urlencoded; x=application/json` as JSON while the handler read a form
 * (issue #26): two readers, two usernames, one bucket missed.
 *
 *   media-type = type "/" subtype parameters
 *   parameters = *( OWS ";" OWS [ parameter ] )
 *   parameter  = parameter-name "=" parameter-value
 *   parameter-value = ( token / quoted-string )
 *
 * Type, subtype and parameter names are case-insensitive (returned lower-case); parameter values are
 * returned as sent (unquoted). A parameter is never read as the type. Anything that does not match
 * the grammar is `null` (the caller refuses it), never "guess the closest".
 */

export interface MediaType {
  /** `type/subtype`, lower-case (the "essence"). */
  essence: string;
  type: string;
  subtype: string;
  /** Parameter names lower-case; a repeated name keeps the first (and `duplicateParameter` is set). */
  parameters: ReadonlyMap<string, string>;
}

/** RFC 9110 §5.6.2 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const OWS = /^[ \t]*/;

/** Longest Content-Type accepted (a header this long is not a media type anyone sends). */
export const MAX_MEDIA_TYPE_LENGTH = 1024;

/** Parses a Content-Type value; `null` when it is missing or not a media type. */
export function parseMediaType(value: string | null | undefined): MediaType | null {
  if (value === null || value === undefined || value.length > MAX_MEDIA_TYPE_LENGTH) return null;
  let rest = value.replace(/^[ \t]+|[ \t]+$/g, '');
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const type = rest.slice(0, slash);
  const end = rest.search(/[ \t;]/);
  const subtype = rest.slice(slash + 1, end === -1 ? undefined : end);
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  rest = end === -1 ? '' : rest.slice(end);
  const parameters = new Map<string, string>();
  while (rest.length > 0) {
    rest = rest.replace(OWS, '');
    if (rest.length === 0) break;
    if (rest[0] !== ';') return null;
    rest = rest.slice(1).replace(OWS, '');
    if (rest.length === 0 || rest[0] === ';') continue; // empty parameter: allowed by the grammar
    const eq = rest.indexOf('=');
    if (eq <= 0) return null;
    const name = rest.slice(0, eq);
    if (!TOKEN.test(name)) return null;
    rest = rest.slice(eq + 1);
    let paramValue: string;
    if (rest[0] === '"') {
      const quoted = /^"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"/.exec(rest);
      if (!quoted) return null;
      paramValue = (quoted[1] as string).replace(/\\(.)/g, '$1');
      rest = rest.slice(quoted[0].length);
    } else {
      const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(rest);
      if (!token) return null;
      paramValue = token[0];
      rest = rest.slice(paramValue.length);
    }
    const key = name.toLowerCase();
    if (!parameters.has(key)) parameters.set(key, paramValue);
  }
  return {
    essence: `${type.toLowerCase()}/${subtype.toLowerCase()}`,
    type: type.toLowerCase(),
    subtype: subtype.toLowerCase(),
    parameters,
  };
}

/** The media types the gateway reads bodies as. */
export const JSON_MEDIA_TYPE = 'application/json';
export const FORM_MEDIA_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'] as const;

/** True for `application/json` (any parameters; a charset, if named, must be UTF-8 — RFC 8259 §8.1). */
export function isJson(mt: MediaType | null): boolean {
  return mt !== null && mt.essence === JSON_MEDIA_TYPE && utf8Charset(mt);
}

/** True for a url-encoded or multipart form (multipart needs its boundary). */
export function isForm(mt: MediaType | null): boolean {
  if (mt === null) return false;
  if (mt.essence === 'multipart/form-data') return Boolean(mt.parameters.get('boundary'));
  return mt.essence === 'application/x-www-form-urlencoded' && utf8Charset(mt);
}

function utf8Charset(mt: MediaType): boolean {
  const charset = mt.parameters.get('charset');
  return charset === undefined || /^utf-?8$/i.test(charset);
}

/** Whether `mt` is one of `accepted` (essences, e.g. `application/json`), with the checks above. */
export function accepts(accepted: readonly string[], mt: MediaType | null): boolean {
  if (mt === null) return false;
  if (!accepted.includes(mt.essence)) return false;
  if (mt.essence === JSON_MEDIA_TYPE) return isJson(mt);
  if ((FORM_MEDIA_TYPES as readonly string[]).includes(mt.essence)) return isForm(mt);
  return true;
}

/**
 * The one spelling handed to the readers behind the gate (Hono's and zod-openapi's validators match
 * Content-Type with their own regular expressions): the essence, plus the boundary for multipart.
 * Other parameters are ignored by every reader (a JSON or form charset has been checked to be UTF-8).
 */
export function canonicalMediaType(mt: MediaType): string {
  if (mt.essence !== 'multipart/form-data') return mt.essence;
  const boundary = mt.parameters.get('boundary') ?? '';
  return /^[A-Za-z0-9'()+_,\-./:=?]+$/.test(boundary)
    ? `${mt.essence}; boundary=${boundary}`
    : `${mt.essence}; boundary="${boundary.replace(/["\\]/g, '\\$&')}"`;
}
