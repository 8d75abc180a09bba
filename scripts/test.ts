// `pnpm test`: every check CI runs, in order, ending with one plain "N passed, N failed"
// line. Static checks (lint, formatting, proto lint, type-check, generated-code staleness)
// each count as one test; the vitest suites count test by test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name: string): string => join(root, 'node_modules/.bin', name);
let passed = 0;
let failed = 0;

function check(label: string, command: string, args: string[]): void {
  console.log(`\n▶ ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status === 0) passed++;
  else {
    failed++;
    console.log(`✗ ${label} failed`);
  }
}

check('eslint', bin('eslint'), ['--max-warnings', '0', '.']);
check('prettier', bin('prettier'), ['--check', '--log-level', 'warn', '.']);
check('buf lint', bin('buf'), ['lint', 'proto']);
// The wire contract as last released: a change that would break a deployed client fails here.
check('buf breaking', bin('buf'), ['breaking', 'proto', '--against', 'packages/contracts/release/v1.binpb']);
check('type-check', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
check('type-check the web console', bin('tsc'), ['-p', 'packages/console/tsconfig.json', '--noEmit']);
// The browser tests (test/e2e/console.test.ts) drive the console the gateway serves from this build.
check('build the web console', process.execPath, ['scripts/console-build.ts']);
check('generated contracts are fresh', process.execPath, ['scripts/gen-contracts.ts', '--check']);
// The NATS users' permissions, from what each service declares it does on the bus.
check('deploy/nats/authorization.conf is fresh', process.execPath, ['scripts/gen-nats-config.ts', '--check']);

const reportDir = join(root, '.tmp');
const report = join(reportDir, 'vitest.json');
mkdirSync(reportDir, { recursive: true });
rmSync(report, { force: true });
console.log('\n▶ vitest');
const vitest = spawnSync(
  bin('vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
try {
  const results = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numTotalTests: number;
    numFailedTestSuites: number;
  };
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  // A file that failed without a failing test (it did not load, a hook threw) counts once.
  if (results.numFailedTests === 0) failed += results.numFailedTestSuites;
  if (results.numTotalTests === 0) {
    console.log('vitest ran no test');
    failed++;
  }
} catch {
  console.log(`vitest left no report (exit ${vitest.status ?? vitest.signal})`);
  failed++;
}
if (vitest.status !== 0 && failed === 0) failed++;

// The loopback cluster (`pnpm test:cluster`), after the rest and alone: it counts as one test.
check('loopback cluster: pnpm test:cluster', bin('vitest'), ['run', '--config', 'test/cluster/vitest.config.ts']);

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
