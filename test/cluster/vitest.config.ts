import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The loopback cluster test alone (`pnpm test:cluster`; `pnpm test` runs it after the rest, on
// its own): three NATS nodes, a Postgres pair and twelve service processes want the machine's
// cores to themselves — beside the whole suite on two cores, a node restarted on an empty disk
// once took longer than the campaign's three minutes to catch up.
export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
