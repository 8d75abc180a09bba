// `pnpm test`: every check CI runs, in order, ending with one plain "N passed, N failed"
// line. Static checks (lint, formatting, proto lint, type-check, generated-code staleness)
// each count as one test; the vitest suites count test by test.
import { spawn, spawnSync } from 'node:child_process';
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

type Check = readonly [label: string, command: string, args: string[]];

/** One check with its output held back, printed whole when it ends (the lanes run side by side). */
function checkQuietly([label, command, args]: Check): Promise<void> {
  return new Promise((resolve) => {
    const output: Buffer[] = [];
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    const done = (ok: boolean, more = ''): void => {
      console.log(`\n▶ ${label}`);
      const text = Buffer.concat(output).toString() + more;
      if (text.trim()) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      if (ok) passed++;
      else {
        failed++;
        console.log(`✗ ${label} failed`);
      }
      resolve();
    };
    child.on('error', (error) => done(false, String(error)));
    child.on('close', (code) => done(code === 0));
  });
}

/**
 * The static checks in two lanes at once, each lane in order: eslint, about as long as all the
 * others together (109 s of 150 s here, one core each), beside the rest.
 */
async function staticChecks(lanes: readonly (readonly Check[])[]): Promise<void> {
  await Promise.all(
    lanes.map(async (lane) => {
      for (const one of lane) await checkQuietly(one);
    }),
  );
}

await staticChecks([
  [['eslint', bin('eslint'), ['--max-warnings', '0', '.']]],
  [
    ['prettier', bin('prettier'), ['--check', '--log-level', 'warn', '.']],
    ['buf lint', bin('buf'), ['lint', 'proto']],
    // The wire contract as last released: a change that would break a deployed client fails here.
    ['buf breaking', bin('buf'), ['breaking', 'proto', '--against', 'packages/contracts/release/v1.binpb']],
    ['type-check', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']],
    ['type-check the web console', bin('tsc'), ['-p', 'packages/console/tsconfig.json', '--noEmit']],
    // The browser tests (test/e2e/console.test.ts) drive the console the gateway serves from this build.
    ['build the web console', process.execPath, ['scripts/console-build.ts']],
    ['generated contracts are fresh', process.execPath, ['scripts/gen-contracts.ts', '--check']],
    // The NATS users' permissions, from what each service declares it does on the bus.
    ['deploy/nats/authorization.conf is fresh', process.execPath, ['scripts/gen-nats-config.ts', '--check']],
  ],
]);

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
