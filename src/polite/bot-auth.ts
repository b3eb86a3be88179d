/**
 * Web Bot Auth signing with Cloudflare's `web-bot-auth` package: every outgoing edge request gets
 * `Signature-Input` (RFC 9421 §4.1; tag "web-bot-auth", alg "ed25519", keyid = the key's JWK
 * SHA-256 thumbprint, RFC 7638), `Signature` and, when the gateway knows its public URL,
 * `Signature-Agent` (covered by the signature) naming where the key directory lives.
 * Keys are imported once per isolate. Without keys nothing is signed (fail-open, documented in
 * docs/polite-crawling.md): a site that requires signatures then treats us as any other client.
 */
import { signatureHeaders, directoryResponseHeaders, MediaType } from 'web-bot-auth';
import { Ed25519Signer } from 'web-bot-auth/crypto';
import { publicJwk, type BotAuthKey } from './bot-auth-keys';

/** How long a request signature stays valid: enough for the request to arrive, short against replay. */
export const SIGNATURE_TTL_SECONDS = 60;
/** The directory's own signature lifetime (it may be cached by verifiers for about as long). */
export const DIRECTORY_TTL_SECONDS = 300;

const signerCache = new WeakMap<readonly BotAuthKey[], Promise<Ed25519Signer[]>>();

/** The signers for the configured keys (first signs requests); imported once per keys array. */
export function signersFor(keys: readonly BotAuthKey[]): Promise<Ed25519Signer[]> {
  let cached = signerCache.get(keys);
  if (!cached) {
    cached = Promise.all(keys.map((k) => Ed25519Signer.fromJWK({ ...k })));
    // A failed import must not be cached forever (e.g. a transient crypto error).
    cached.catch(() => signerCache.delete(keys));
    signerCache.set(keys, cached);
  }
  return cached;
}

/** The `Signature-Agent` header value: an RFC 8941 string holding the directory's origin. */
export function signatureAgentValue(agentUrl: string): string {
  return `"${new URL(agentUrl).origin}"`;
}

export interface SignOptions {
  keys: readonly BotAuthKey[];
  /** The gateway's public URL (SIGNATURE_AGENT_URL, else the request's origin); omitted when unknown. */
  agentUrl?: string;
  now?: number;
}

/** Headers to add to a GET of `url`: the signature set, or nothing when no key is configured. */
export async function botAuthHeaders(url: string, method: string, o: SignOptions): Promise<Record<string, string>> {
  if (o.keys.length === 0) return {};
  const [signer] = await signersFor(o.keys);
  const headers: Record<string, string> = {};
  if (o.agentUrl) headers['Signature-Agent'] = signatureAgentValue(o.agentUrl);
  const now = o.now ?? Date.now();
  const signed = await signatureHeaders({ method, url, headers }, signer!, {
    created: new Date(now),
    expires: new Date(now + SIGNATURE_TTL_SECONDS * 1000),
  });
  return { ...headers, 'Signature-Input': signed['Signature-Input'], Signature: signed.Signature };
}

/**
 * The key directory response (draft-meunier-http-message-signatures-directory): a JWK Set of every
 * configured public key, `application/http-message-signatures-directory+json`, signed by each key
 * (tag "http-message-signatures-directory", covering `@authority;req`).
 */
export async function directoryResponse(
  requestUrl: string,
  keys: readonly BotAuthKey[],
  now = Date.now(),
): Promise<{ body: string; headers: Record<string, string> }> {
  const body = JSON.stringify({ keys: keys.map(publicJwk) });
  const headers: Record<string, string> = {
    'Content-Type': MediaType.HTTP_MESSAGE_SIGNATURES_DIRECTORY,
    'Cache-Control': `public, max-age=${DIRECTORY_TTL_SECONDS}`,
  };
  const signers = await signersFor(keys);
  const signed = await directoryResponseHeaders(
    { request: { method: 'GET', url: requestUrl, headers: {} }, response: { status: 200, headers } },
    signers,
    { created: new Date(now), expires: new Date(now + DIRECTORY_TTL_SECONDS * 1000) },
  );
  return { body, headers: { ...headers, 'Signature-Input': signed['Signature-Input'], Signature: signed.Signature } };
}
