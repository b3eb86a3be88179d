/**
 * argon2id password hashing and verification inside workerd.
 *
 * The `.wasm` is imported as a module (Workers refuse to compile WebAssembly from bytes at run
 * time) and instantiated lazily, once per isolate. We call the module's C exports directly instead
 * of `@phi-ag/argon2`'s wrapper class because that class passes `password.length` (UTF-16 units)
 * as the byte length of the UTF-8 password, which silently truncates non-ASCII passwords.
 *
 * Parameters: the seed's argon2-cffi hashes (m=65536,t=3,p=4) still verify; new hashes use the
 * OWASP Password Storage Cheat Sheet's argon2id minimum (m=19 MiB, t=2, p=1).
 */
import wasm from '@phi-ag/argon2/argon2.wasm';

/** OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1. */
export const OWASP_ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Longest password we hash (bytes); longer input is refused before any work (CPU DoS). */
export const MAX_PASSWORD_BYTES = 1024;

/** Upper bounds on stored parameters so a hostile hash cannot make one login cost seconds. */
const MAX_MEMORY_KIB = 262_144;
const MAX_TIME = 10;
const MAX_PARALLELISM = 16;

/**
 * A hash of a random, discarded password with the OWASP parameters every crawlgate-created user
 * gets. Unknown usernames are verified against it so they cost what a real user costs.
 */
export const DUMMY_PASSWORD_HASH = '$argon2id$v=19$m=19456,t=2,p=1$iE0hG0vSVh4uJjo6WCgNKg$el0Qxbha1xFOeR9GjZ+J9ILzjctSXUMnghBudcBLMo8';

const ARGON2ID = 2;
const VERSION_13 = 0x13;
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

interface Argon2Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  argon2_verify(encoded: number, pwd: number, pwdLen: number, type: number): number;
  argon2_encodedlen(t: number, m: number, p: number, saltLen: number, hashLen: number, type: number): number;
  argon2_hash(
    t: number,
    m: number,
    p: number,
    pwd: number,
    pwdLen: number,
    salt: number,
    saltLen: number,
    hash: number,
    hashLen: number,
    encoded: number,
    encodedLen: number,
    type: number,
    version: number,
  ): number;
}

let instance: Argon2Exports | undefined;

function argon2(): Argon2Exports {
  if (!instance) {
    const exports = new WebAssembly.Instance(wasm, {}).exports as unknown as Argon2Exports;
    exports._initialize();
    instance = exports;
  }
  return instance;
}

/** Copies bytes (plus a NUL) into WASM memory; the caller frees the pointer. */
function toHeap(a: Argon2Exports, bytes: Uint8Array): number {
  const ptr = a.malloc(bytes.length + 1);
  if (ptr === 0) throw new Error('argon2: out of memory');
  const heap = new Uint8Array(a.memory.buffer);
  heap.set(bytes, ptr);
  heap[ptr + bytes.length] = 0;
  return ptr;
}

/** Zeroes a freed password buffer so the plaintext does not linger in WASM memory. */
function wipe(a: Argon2Exports, ptr: number, length: number): void {
  new Uint8Array(a.memory.buffer).fill(0, ptr, ptr + length);
}

/** The cost parameters of a PHC string, or null when it is not an acceptable argon2id v19 hash. */
export function argon2Params(encoded: string): { m: number; t: number; p: number } | null {
  const m = PHC.exec(encoded);
  if (!m) return null;
  const params = { m: Number(m[1]), t: Number(m[2]), p: Number(m[3]) };
  if (params.m > MAX_MEMORY_KIB || params.t > MAX_TIME || params.p > MAX_PARALLELISM) return null;
  return params;
}

/** Verifies a password against an argon2id PHC string (argon2-cffi compatible). Never throws. */
export function verifyPassword(encoded: string, password: string): boolean {
  const bytes = new TextEncoder().encode(password);
  if (bytes.length > MAX_PASSWORD_BYTES || !argon2Params(encoded)) return false;
  const a = argon2();
  const enc = toHeap(a, new TextEncoder().encode(encoded));
  const pwd = toHeap(a, bytes);
  try {
    // argon2_verify recomputes the hash and compares in constant time (phc-winner-argon2).
    return a.argon2_verify(enc, pwd, bytes.length, ARGON2ID) === 0;
  } finally {
    wipe(a, pwd, bytes.length);
    a.free(enc);
    a.free(pwd);
  }
}

/** Hashes a new password with the OWASP argon2id parameters and a 16-byte random salt. */
export function hashPassword(password: string): string {
  const bytes = new TextEncoder().encode(password);
  if (bytes.length > MAX_PASSWORD_BYTES) throw new RangeError('password too long');
  const { memoryCost: m, timeCost: t, parallelism: p } = OWASP_ARGON2;
  const a = argon2();
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const encodedLen = a.argon2_encodedlen(t, m, p, salt.length, 32, ARGON2ID);
  const pwd = toHeap(a, bytes);
  const saltPtr = toHeap(a, salt);
  const hash = a.malloc(32);
  const out = a.malloc(encodedLen);
  try {
    const rc = a.argon2_hash(t, m, p, pwd, bytes.length, saltPtr, salt.length, hash, 32, out, encodedLen, ARGON2ID, VERSION_13);
    if (rc !== 0) throw new Error(`argon2_hash failed (${rc})`);
    const heap = new Uint8Array(a.memory.buffer);
    let end = out;
    while (heap[end] !== 0 && end < out + encodedLen) end++;
    return new TextDecoder().decode(heap.subarray(out, end));
  } finally {
    wipe(a, pwd, bytes.length);
    for (const ptr of [pwd, saltPtr, hash, out]) a.free(ptr);
  }
}

/** The seam login uses, so a test can count calls (cost parity) without timing anything. */
export interface PasswordVerifier {
  verify(encoded: string, password: string): boolean | Promise<boolean>;
}

export const argon2Verifier: PasswordVerifier = { verify: verifyPassword };
