/**
 * One reading of the request body, shared by every reader (issue #26, and #25 "read the body once").
 *
 *  1. `bodyGate` (app-level, before any limiter): reads the body once within `MAX_BODY_BYTES` (413,
 *     enforced on the stream so a missing or lying Content-Length cannot get more through), parses
 *     its `Content-Type` with the one anchored parser (media-type.ts) and refuses a body whose media
 *     type the matched route does not accept (415) — so no limiter ever reads a body its handler
 *     would read differently.
 *  2. `requestBody(c)`: the buffered bytes, the text (UTF-8, decoded once), the strict JSON
 *     (`parseStrictJson`: duplicate keys, depth > 64, > 100,000 values and non-round-tripping
 *     numbers refused; parsed once) and the form (parsed once). The login limiter reads it here.
 *  3. `bodyReader` (route-level, after the route's permission check, before its validators): turns a
 *     failed JSON reading into 400 `invalid_json` / 422 `validation_failed` and hands the parsed value
 *     to Hono, so zod validators and handlers use the same value instead of parsing again.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from './errors';
import {
  accepts,
  canonicalMediaType,
  FORM_MEDIA_TYPES,
  isForm,
  isJson,
  JSON_MEDIA_TYPE,
  parseMediaType,
  type MediaType,
} from './media-type';
import { requestRoute } from './request-target';
import { parseStrictJson, type StrictJsonResult } from '../lib/strict-json';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request body, read once by `bodyGate` (src/http/request-body.ts). */
    requestBody: RequestBody;
  }
}

const EMPTY = new Uint8Array(0);

/** The body as read once: bytes, media type, and memoised text / JSON / form readings. */
export class RequestBody {
  #text: string | null | undefined;
  #json: StrictJsonResult | undefined;
  #form: Promise<FormData> | undefined;

  constructor(
    readonly bytes: Uint8Array,
    readonly mediaType: MediaType | null,
  ) {}

  /** The body as UTF-8 text, or null when it is not valid UTF-8 (RFC 8259 §8.1). A BOM is dropped. */
  text(): string | null {
    if (this.#text === undefined) {
      try {
        this.#text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(this.bytes);
      } catch {
        this.#text = null;
      }
    }
    return this.#text;
  }

  /** The strict JSON reading of the body (never throws; parsed at most once). */
  json(): StrictJsonResult {
    if (this.#json === undefined) {
      const text = this.text();
      this.#json =
        text === null ? { ok: false, reason: 'syntax', message: 'The body is not valid UTF-8', offset: 0 } : parseStrictJson(text);
    }
    return this.#json;
  }

  /** The url-encoded or multipart form (parsed at most once; rejects when it cannot be parsed). */
  form(): Promise<FormData> {
    this.#form ??= new Response(this.bytes, { headers: { 'Content-Type': contentTypeOf(this.mediaType) } }).formData();
    return this.#form;
  }
}

function contentTypeOf(mt: MediaType | null): string {
  if (!mt) return '';
  const params = [...mt.parameters].map(([k, v]) => `; ${k}="${v.replace(/["\\]/g, '\\$&')}"`).join('');
  return mt.essence + params;
}

/** The body of this request (empty when there is none, or when `bodyGate` did not run). */
export function requestBody(c: Context<AppEnv>): RequestBody {
  let body = c.get('requestBody');
  if (!body) {
    body = new RequestBody(EMPTY, parseMediaType(c.req.header('Content-Type')));
    c.set('requestBody', body);
  }
  return body;
}

/** Reads at most `limit` bytes; throws 413 as soon as the stream goes past it. */
export async function readBodyWithin(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const ch of chunks) {
    out.set(ch, offset);
    offset += ch.byteLength;
  }
  return out;
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('payload_too_large', `The request body exceeds ${limit} bytes`, { extras: { limit_bytes: limit } });
}

/** `METHOD template` → the media types the route reads, for routes the OpenAPI document does not describe. */
const UNDECLARED_BODIES: Array<{ method: string; template: RegExp; accepted: readonly string[] }> = [
  // Crawl4AI's MCP SSE transport: JSON-RPC messages (src/crawl/mcp.ts reads them as text).
  { method: 'POST', template: /^\/mcp\/messages\/?$/, accepted: [JSON_MEDIA_TYPE] },
  // Dashboard forms (src/dashboard/guard.ts readForm).
  { method: 'POST', template: /^\/dashboard(\/|$)/, accepted: FORM_MEDIA_TYPES },
];

/** Whether a route reads a request body: it declares one, or is listed in UNDECLARED_BODIES. */
export function routeReadsBody(method: string, honoPath: string, declared: boolean): boolean {
  return declared || UNDECLARED_BODIES.some((u) => u.method === method.toUpperCase() && u.template.test(honoPath));
}

/** Accepted media types per `METHOD template`, from the OpenAPI registry (built once per app). */
export type AcceptedTypes = (method: string, template: string) => readonly string[] | undefined;

/** Minimal view of the app's OpenAPI registry (what `acceptedTypesOf` reads). */
export interface RouteRegistry {
  openAPIRegistry: {
    definitions: ReadonlyArray<{
      type: string;
      route?: { method: string; path: string; request?: { body?: { content?: Record<string, unknown> } } };
    }>;
  };
}

/** Builds the lookup from the routes' declared request bodies (their `content` media types). */
export function acceptedTypesOf(app: RouteRegistry): AcceptedTypes {
  let table: Map<string, readonly string[]> | null = null;
  return (method, template) => {
    if (!table) {
      table = new Map();
      for (const def of app.openAPIRegistry.definitions) {
        const content = def.type === 'route' ? def.route?.request?.body?.content : undefined;
        if (!def.route || !content) continue;
        const honoPath = def.route.path.replace(/\{([^}]+)\}/g, ':$1');
        const types = Object.keys(content).map((t) => t.toLowerCase());
        // A form route reads either form encoding (like FastAPI's OAuth2PasswordRequestForm and zod-openapi's form validator).
        if (types.some((t) => (FORM_MEDIA_TYPES as readonly string[]).includes(t)))
          types.push(...FORM_MEDIA_TYPES.filter((t) => !types.includes(t)));
        table.set(`${def.route.method.toUpperCase()} ${honoPath}`, types);
      }
    }
    return table.get(`${method} ${template}`) ?? UNDECLARED_BODIES.find((u) => u.method === method && u.template.test(template))?.accepted;
  };
}

/** App-level: read the body once within the cap, and refuse a media type the route does not read (415). */
export function bodyGate(acceptedTypes: AcceptedTypes): MiddlewareHandler<AppEnv> {
  return async function bodyGateMiddleware(c, next) {
    const raw = c.req.raw;
    const mediaType = parseMediaType(c.req.header('Content-Type'));
    if (!raw.body || c.req.header('Upgrade')) {
      c.set('requestBody', new RequestBody(EMPTY, mediaType));
      return next();
    }
    const limit = c.get('config').MAX_BODY_BYTES;
    const declared = c.req.header('Content-Length');
    if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
    // A body framed by a Content-Length within the cap is read natively in one call (the runtime
    // ends the body at that length); without one (chunked), chunk by chunk with the cap on the stream.
    const bytes =
      declared !== undefined && /^\d{1,15}$/.test(declared) && !c.req.header('Transfer-Encoding')
        ? new Uint8Array(await raw.arrayBuffer())
        : await readBodyWithin(raw.body, limit);
    if (bytes.byteLength > limit) throw tooLarge(limit);
    const body = new RequestBody(bytes, mediaType);
    c.set('requestBody', body);
    const route = requestRoute(c);
    const accepted = route.template ? acceptedTypes(route.method, route.template) : undefined;
    const sent = c.req.header('Content-Type');
    if (accepted && bytes.byteLength > 0 && !accepts(accepted, mediaType)) {
      throw new GatewayError(
        'unsupported_media_type',
        `${sent ? `Content-Type "${sent.slice(0, 100)}" is` : 'A body without a Content-Type is'} not accepted here; send ${accepted.join(' or ')}`,
        { extras: { accepted } },
      );
    }
    // Hono's own readers (c.req.text/arrayBuffer/parseBody, the zod validators) use these bytes;
    // the Request keeps a copy-free view for code that reads `c.req.raw` directly. An accepted
    // media type is handed on in its one canonical spelling, so no reader behind this gate can read
    // `application/json ; x="a;b"` differently from the parser here.
    primeBodyCache(c, 'arrayBuffer', Promise.resolve(arrayBufferOf(bytes)));
    const canonical = accepted && mediaType ? canonicalMediaType(mediaType) : null;
    if (canonical !== null && canonical !== sent) {
      const headers = new Headers(raw.headers);
      headers.set('Content-Type', canonical);
      c.req.raw = new Request(raw, { body: bytes, headers });
    } else {
      c.req.raw = new Request(raw, { body: bytes });
    }
    await next();
  };
}

/**
 * Hono keeps each body reading it made as a promise in `c.req.bodyCache` (typed there as the
 * values, held at run time as promises); priming it makes c.req.text()/formData() and the
 * validators use this request's one reading.
 */
function primeBodyCache(c: Context<AppEnv>, key: 'arrayBuffer' | 'text' | 'formData', value: Promise<unknown>): void {
  (c.req.bodyCache as Record<string, unknown>)[key] = value;
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
}

/**
 * The problem for a failed strict JSON reading, the same on every route and MCP transport: a text
 * another parser could read differently (syntax, a duplicate key, a number that does not
 * round-trip) → 400 `invalid_json`; over a bound (depth, value count) → 422 `validation_failed`.
 */
export function jsonBodyError(result: Extract<StrictJsonResult, { ok: false }>): GatewayError {
  const path = result.path ?? '$';
  const errors = [{ path, message: result.message, reason: result.reason }];
  if (result.reason === 'too_deep' || result.reason === 'too_large') {
    return new GatewayError('validation_failed', `Invalid request: ${path}: ${result.message}`, {
      extras: { errors, reason: result.reason },
    });
  }
  return new GatewayError('invalid_json', `The request body is not JSON the gateway accepts: ${result.message}`, {
    extras: { errors, reason: result.reason, path, offset: result.offset },
  });
}

/**
 * Route-level (added to every route by `createRouter`, after the route's own middleware such as
 * `requirePermission`): a JSON body is read strictly once, refused with 400/422 when it fails, and
 * handed to Hono's validators and handlers; a form is parsed once and handed over the same way.
 */
export function bodyReader(): MiddlewareHandler<AppEnv> {
  return async function bodyReaderMiddleware(c, next) {
    const body = requestBody(c);
    if (body.bytes.byteLength === 0 && !body.mediaType) return next();
    const text = body.text();
    if (text !== null) primeBodyCache(c, 'text', Promise.resolve(text));
    if (isJson(body.mediaType)) {
      const result = body.json();
      if (!result.ok) throw jsonBodyError(result);
      const value = result.value;
      // Hono 4 re-runs JSON.parse on every c.req.json(); this request's one reading replaces it.
      c.req.json = (() => Promise.resolve(value)) as typeof c.req.json;
    } else if (isForm(body.mediaType)) {
      const form = body.form().catch(() => {
        throw new GatewayError('bad_request', 'The form body cannot be parsed');
      });
      form.catch(() => {}); // handled by whoever awaits it (the form validator, readForm)
      primeBodyCache(c, 'formData', form);
    }
    await next();
  };
}
