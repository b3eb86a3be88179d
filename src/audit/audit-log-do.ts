/** Single writer of the audit hash chain (the audit-log issue implements it). */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export class AuditLog extends DurableObject<Env> {}
