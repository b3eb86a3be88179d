import { describe, expect, it } from 'vitest';
import {
  argon2Params,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  OWASP_ARGON2,
  verifyPassword,
  type PasswordVerifier,
} from '../../src/auth/password';
import { checkLogin } from '../../src/users/login';
import { createUser, testConfig, testEnv, uniqueName } from '../helpers/auth';

// argon2-cffi's README example: PasswordHasher() defaults, the seed's parameters (m=65536,t=3,p=4).
const ARGON2_CFFI_HASH = '$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg';

describe('argon2id in workerd', () => {
  it('verifies an argon2-cffi hash with the seed parameters and rejects a wrong password', () => {
    expect(verifyPassword(ARGON2_CFFI_HASH, 'correct horse battery staple')).toBe(true);
    expect(verifyPassword(ARGON2_CFFI_HASH, 'Tr0ub4dor&3')).toBe(false);
  });

  it('hashes new passwords with the OWASP parameters, and they verify', () => {
    const encoded = hashPassword('a new password');
    expect(argon2Params(encoded)).toEqual({ m: OWASP_ARGON2.memoryCost, t: OWASP_ARGON2.timeCost, p: OWASP_ARGON2.parallelism });
    expect(verifyPassword(encoded, 'a new password')).toBe(true);
    expect(verifyPassword(encoded, 'a new passwore')).toBe(false);
  });

  it('uses every UTF-8 byte of a non-ASCII password (no truncation to its UTF-16 length)', () => {
    const encoded = hashPassword('pä');
    expect(verifyPassword(encoded, 'pä')).toBe(true);
    // 'ä' and 'ã' share their first UTF-8 byte (0xC3): a length bug would accept this.
    expect(verifyPassword(encoded, 'pã')).toBe(false);
  });

  it('refuses malformed hashes, other variants and hostile cost parameters without throwing', () => {
    expect(verifyPassword('not a hash', 'x')).toBe(false);
    expect(verifyPassword(ARGON2_CFFI_HASH.replace('argon2id', 'argon2i'), 'correct horse battery staple')).toBe(false);
    expect(verifyPassword(ARGON2_CFFI_HASH.replace('m=65536', 'm=4194304'), 'correct horse battery staple')).toBe(false);
    expect(verifyPassword(ARGON2_CFFI_HASH, 'x'.repeat(5000))).toBe(false);
  });

  it('the dummy hash has the parameters new users get', () => {
    expect(argon2Params(DUMMY_PASSWORD_HASH)).toEqual({ m: 19456, t: 2, p: 1 });
  });
});

describe('login cost parity (OWASP Authentication Cheat Sheet)', () => {
  function countingVerifier(): PasswordVerifier & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      verify(encoded, password) {
        calls.push(encoded);
        return verifyPassword(encoded, password);
      },
    };
  }
  const deps = (verifier: PasswordVerifier) => ({ db: testEnv.DB, config: testConfig(), verifier, now: Date.now() });

  it('an unknown username still runs one argon2id verification, against the dummy hash', async () => {
    const v = countingVerifier();
    const result = await checkLogin(deps(v), uniqueName('ghost'), 'whatever');
    expect(result).toEqual({ ok: false, reason: 'unknown_user' });
    expect(v.calls).toEqual([DUMMY_PASSWORD_HASH]);
  });

  it('a known user runs exactly one verification, against their own hash', async () => {
    const user = await createUser();
    const v = countingVerifier();
    expect((await checkLogin(deps(v), user.username, 'wrong')).ok).toBe(false);
    expect((await checkLogin(deps(v), user.username, user.password)).ok).toBe(true);
    expect(v.calls).toEqual([user.passwordHash, user.passwordHash]);
  });

  it('a disabled user is refused only after the same verification', async () => {
    const user = await createUser({ disabled: true });
    const v = countingVerifier();
    const result = await checkLogin(deps(v), user.username, user.password);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toBe('disabled');
    expect(v.calls).toHaveLength(1);
  });

  it('usernames match case-insensitively (no "Admin" next to "admin")', async () => {
    const user = await createUser({ username: uniqueName('Case') });
    const v = countingVerifier();
    expect((await checkLogin(deps(v), user.username.toUpperCase(), user.password)).ok).toBe(true);
  });
});
