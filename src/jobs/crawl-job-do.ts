/** One crawl job's state and checkpoints (the jobs issue implements it). */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export class CrawlJob extends DurableObject<Env> {}
