import { defineConfig } from 'vitest/config';

// Unit tests (pure logic, beside the code) and integration tests (adapters against the real
// Postgres and NATS, user journeys, faults) run in one invocation; every integration file
// gets its own database and NATS namespace, so files run in parallel.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // test/deploy: the Kubernetes and compose manifests, rendered and checked (no servers).
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/deploy/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'packages/*/test/**/*.test.ts',
            'services/*/test/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/faults/**/*.test.ts',
          ],
          exclude: ['**/*.trace.test.ts', '**/node_modules/**', 'test/e2e/console*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          // The console in chromium, against every service in the test's process (openConsole).
          include: ['test/e2e/console*.test.ts'],
          // The console the gateway serves, built once before any file opens it.
          globalSetup: ['test/e2e/console/build.ts'],
          // A page's answer, waited for as a person would: on a loaded machine (files beside this
          // one, other work on the host) a screen can take more than expect.poll's default second
          // to show what the test then asserts in full. The deadline only; every assertion stays.
          expect: { poll: { timeout: 15_000 } },
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
        },
      },
    ],
  },
});
