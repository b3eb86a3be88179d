/**
 * Runs in Node before the workers tests: starts the real HTTP servers the tests talk to
 * (a Crawl4AI-shaped origin and a small website to crawl) on loopback, and hands their ports
 * to the tests through `inject()`.
 */
import type { TestProject } from 'vitest/node';
import { startOriginServer } from './origin-server';
import { startSiteServer } from './site-server';

export default async function setup(project: TestProject) {
  const origin = await startOriginServer();
  const site = await startSiteServer();
  project.provide('originPort', origin.port);
  project.provide('sitePort', site.port);
  return async () => {
    await origin.close();
    await site.close();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    originPort: number;
    sitePort: number;
  }
}
