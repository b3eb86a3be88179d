/** Rate-limit counters (the rate-limit issue implements the windows, leases and alarms). */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export class RateLimiter extends DurableObject<Env> {}
