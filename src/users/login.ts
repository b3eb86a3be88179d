/**
 * Username + password → user, with the same work whether or not the user exists: unknown
 * usernames are verified against a dummy hash, and a disabled user's password is still checked
 * before the refusal, so the response time does not tell which usernames exist (OWASP
 * Authentication Cheat Sheet). The verifier is injected so tests can count that work.
 */
import type { Config } from '../config';
import { DUMMY_PASSWORD_HASH, type PasswordVerifier } from '../auth/password';
import { ensureBootstrapAdmin, isBootstrapAdmin } from './bootstrap';
import { getUserByUsername, type UserRecord } from './store';

export type LoginResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: 'unknown_user' | 'bad_password' | 'disabled'; user?: UserRecord };

export interface LoginDeps {
  db: D1Database;
  config: Config;
  verifier: PasswordVerifier;
  now: number;
}

export async function checkLogin(deps: LoginDeps, username: string, password: string): Promise<LoginResult> {
  if (isBootstrapAdmin(deps.config, username)) await ensureBootstrapAdmin(deps.db, deps.config, deps.now);
  const user = await getUserByUsername(deps.db, username);
  if (!user) {
    await deps.verifier.verify(DUMMY_PASSWORD_HASH, password);
    return { ok: false, reason: 'unknown_user' };
  }
  const match = await deps.verifier.verify(user.passwordHash, password);
  if (!match) return { ok: false, reason: 'bad_password', user };
  if (user.disabled) return { ok: false, reason: 'disabled', user };
  return { ok: true, user };
}
