/**
 * Runs in Node before the workers tests: starts the real HTTP servers the tests talk to
 * (a Crawl4AI-shaped origin and a small website to crawl) on loopback, and hands their ports
 * to the tests through `inject()`.
 */
import type { TestProject } from 'vitest/node';
import { startOriginServer } from './origin-server';
import { startSiteServer } from './site-server';
import { startPoliteSites } from './polite-server';
import { startCrawl4ai09Origin } from './crawl4ai-09-origin';

export default async function setup(project: TestProject) {
  const origin = await startOriginServer();
  const site = await startSiteServer();
  project.provide('originPort', origin.port);
  project.provide('sitePort', site.port);
  // test/polite/: one listener per target host (own robots.txt, own arrival log).
  const polite = await startPoliteSites(14);
  project.provide('politePorts', polite.ports.join(','));
  // test/crawl/crawl4ai-09.test.ts: an origin behaving like the Crawl4AI 0.9 server.
  const c4ai09 = await startCrawl4ai09Origin();
  project.provide('c4ai09Port', c4ai09.port);
  return async () => {
    await c4ai09.close();
    await polite.close();
    await origin.close();
    await site.close();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    originPort: number;
    sitePort: number;
    politePorts: string;
    c4ai09Port: number;
  }
}
