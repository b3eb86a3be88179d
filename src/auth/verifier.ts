/** The contract between the authenticate middleware and the API-key / JWT verifiers. */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { Principal } from './principal';
import type { AuditActor } from '../audit/types';

export type AuthFailureCode = 'invalid_credentials' | 'invalid_token' | 'token_expired' | 'token_revoked';

export type AuthResult =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      /** What the client sees: deliberately generic (unknown, revoked, expired keys all look alike). */
      code: AuthFailureCode;
      /** The real reason, for the audit row only (`unknown_key`, `revoked`, `bad_checksum`, ...). */
      reason: string;
      /** Who it was about, when known (a revoked key's id), for the audit row. */
      actor?: AuditActor;
    };

export type CredentialVerifier = (c: Context<AppEnv>, credential: string) => Promise<AuthResult>;
