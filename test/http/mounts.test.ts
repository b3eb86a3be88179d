import { describe, expect, it } from 'vitest';
import { createApp, routerMounts } from '../../src/app';

const openapiPath = (p: string) => p.replace(/:([A-Za-z_]+)/g, '{$1}');
const under = (path: string, base: string) => path === base || path.startsWith(`${base}/`);

describe('src/app.ts router mounts', () => {
  it('list, for every router, paths that cover every route it serves', () => {
    const mounts = routerMounts(createApp());
    expect(mounts.length).toBeGreaterThan(1);
    for (const m of mounts) {
      const served = m.router.routes.filter((r) => r.method !== 'ALL').map((r) => openapiPath(r.path));
      expect(served.length, `${m.area} ${m.paths.join(',')}`).toBeGreaterThan(0);
      for (const path of served)
        expect(
          m.paths.some((base) => under(path, base)),
          `${m.area}: ${path} is not under ${m.paths.join(', ')}`,
        ).toBe(true);
      // No stale entry: every listed path is served by that router.
      for (const base of m.paths)
        expect(
          served.some((path) => under(path, base)),
          `${m.area}: nothing under ${base}`,
        ).toBe(true);
    }
  });
});
