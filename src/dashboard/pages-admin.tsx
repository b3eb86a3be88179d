/** Users, audit and crawl pages (filled in below). */
import type { Hono } from 'hono';
import type { AppEnv } from '../env';

/** Registers /dashboard/users, /dashboard/audit and /dashboard/crawl. */
export function adminPages(_r: Hono<AppEnv>): void {}
