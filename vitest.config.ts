/**
 * Two test projects:
 *  - `workers`: everything under test/ except test/node, run inside workerd with real local
 *    D1, KV and Durable Objects (miniflare), configured from wrangler.toml.
 *  - `node`: test/node — the CLI scripts and an end-to-end check of `wrangler dev`.
 */
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { TEST_VARS } from './test/helpers/test-vars.ts';

const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));

export default defineConfig({
  test: {
    // CI also writes a JSON report; .ci/run prints a one-line "N passed, N failed" summary from it.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/test-results.json' }]] : ['default'],
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: './src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ...TEST_VARS,
                ORIGIN_URL: `http://127.0.0.1:${inject('originPort')}`,
                TEST_SITE_URL: `http://127.0.0.1:${inject('sitePort')}`,
                TEST_POLITE_PORTS: inject('politePorts'),
                TEST_C4AI09_ORIGIN_URL: `http://127.0.0.1:${inject('c4ai09Port')}`,
                TEST_MIGRATIONS: migrations,
              },
              // A second, empty D1 for test/unit/tenant-migration.test.ts (migrations applied step by step).
              d1Databases: { MIGRATION_TEST_DB: 'migration-test-db' },
            },
          })),
        ],
        test: {
          name: 'workers',
          include: ['test/**/*.test.ts'],
          exclude: ['test/node/**'],
          globalSetup: ['./test/helpers/global-setup.ts'],
          setupFiles: ['./test/helpers/apply-migrations.ts'],
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
