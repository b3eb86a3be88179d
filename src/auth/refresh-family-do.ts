/** Refresh-token families with compare-and-set rotation (the JWT issue implements it). */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export class RefreshFamily extends DurableObject<Env> {}
