import { defineConfig } from 'vitest/config';

// Unit tests (pure logic, beside the code) and integration tests (adapters against the real
// Postgres and NATS, user journeys, faults) run in one invocation; every integration file
// gets its own database and NATS namespace, so files run in parallel.
//
// How many at once (ADR 43): vitest's default, one worker less than the cores, is a single
// worker on a two-core machine — every file after the other, the cores idle while a file waits
// on Postgres, NATS or a process starting. The projects run in four groups, one after the
// other (`sequence.groupOrder`), each with its own number of workers:
// 1. `browser`: the console in chromium, the whole network in each file's process — two at once;
// 2. `faults`: services, NATS and Postgres killed and restarted, the chaos campaign — one at a
//    time, as before: their restarts are waited for against deadlines, on cores of their own;
// 3. `system`: whole networks — of processes (`pnpm start`, the services' own entry points,
//    private servers), or in process behind the gateway (services/gateway/test) — two at once:
//    each keeps up to ~35 of Postgres's 100 connections;
// 4. `unit`, `integration`, `tracing`: in-process tests of one to three services that mostly
//    wait on the shared Postgres and NATS — three at once.
// `pnpm test:cluster` runs after all of them, alone (test/cluster/vitest.config.ts).
const faultTests = [
  'test/faults/**/*.test.ts',
  'packages/*/test/**/*.fault.test.ts',
  'services/*/test/**/*.fault.test.ts',
];
const systemTests = ['test/e2e/**/*.test.ts', 'services/gateway/test/**/*.test.ts'];
const browserTests = ['test/e2e/console*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'browser',
          // The console in chromium, against every service in the test's process (openConsole).
          include: browserTests,
          // The console the gateway serves, built once before any file opens it.
          globalSetup: ['test/e2e/console/build.ts'],
          // A page's answer, waited for as a person would: on a loaded machine (a file beside this
          // one, other work on the host) a screen can take more than expect.poll's default second
          // to show what the test then asserts in full. The deadline only; every assertion stays.
          expect: { poll: { timeout: 15_000 } },
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'faults',
          include: faultTests,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: {
          name: 'system',
          include: systemTests,
          exclude: [...browserTests, ...faultTests, '**/*.trace.test.ts', '**/node_modules/**'],
          maxWorkers: 2,
          sequence: { groupOrder: 3 },
        },
      },
      {
        extends: true,
        test: {
          name: 'unit',
          // test/deploy: the Kubernetes and compose manifests, rendered and checked (no servers).
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/deploy/**/*.test.ts'],
          maxWorkers: 3,
          sequence: { groupOrder: 4 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          exclude: [...faultTests, ...systemTests, '**/*.trace.test.ts', '**/node_modules/**'],
          maxWorkers: 3,
          sequence: { groupOrder: 4 },
        },
      },
      {
        extends: true,
        test: {
          name: 'tracing',
          include: ['**/*.trace.test.ts'],
          exclude: ['**/node_modules/**'],
          // Instrumentation must be in place before grpc-js and pg are first imported.
          execArgv: ['--import', './packages/platform/test/otel-register.ts'],
          maxWorkers: 3,
          sequence: { groupOrder: 4 },
        },
      },
    ],
  },
});
