// `pnpm bench`: every benchmark, one after the other, each in a process of its own with its
// output streamed as it comes; BENCH_RUNS times (default 1). Each benchmark records its targets'
// rows (bench/summary.ts) in a file of its own; at the end, the machine and one table of every
// target: median and range over the runs, in how many runs it was met. A benchmark that
// crashes is named with its exit code and the others still run; the command then exits
// non-zero (only then: a missed target is a figure, not a failure).
//
// BENCH_ONLY=outbox,consent runs those only. Every other setting (BENCH_EVENTS, …) reaches the
// benchmarks as it is.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summaryTable, type RecordedRow, type TargetRow } from './summary.ts';

const benchmarks = ['outbox', 'consent', 'referrals', 'audit', 'audit-verify', 'escalation'] as const;
const testDir = fileURLToPath(new URL('../', import.meta.url));

const runs = Number(process.env['BENCH_RUNS'] ?? 1);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`BENCH_RUNS must be a whole number ≥ 1, not ${process.env['BENCH_RUNS']}`);
  process.exit(2);
}
const only = process.env['BENCH_ONLY']
  ?.split(',')
  .map((name) => name.trim())
  .filter(Boolean);
const unknown = only?.filter((name) => !(benchmarks as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0) {
  console.error(`BENCH_ONLY names no benchmark called ${unknown.join(', ')} (there are: ${benchmarks.join(', ')})`);
  process.exit(2);
}
const selected = only?.length ? benchmarks.filter((name) => only.includes(name)) : [...benchmarks];

/** Runs one benchmark; resolves with its exit code (or the signal that ended it). */
function runBenchmark(name: string, summaryFile: string): Promise<{ code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, [`bench/${name}.bench.ts`], {
    cwd: testDir,
    env: { ...process.env, BENCH_SUMMARY_FILE: summaryFile },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve) => {
    child.once('error', (error) => {
      console.error(`could not start ${name}: ${error.message}`);
      resolve({ code: -1, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'passage-bench-'));
const rows: RecordedRow[] = [];
const crashes: string[] = [];
const began = performance.now();
try {
  for (let run = 1; run <= runs; run++) {
    for (const name of selected) {
      console.log(`\n=== ${name} (run ${run} of ${runs}) ===\n`);
      const file = join(dir, `${name}-${run}.jsonl`);
      const benchBegan = performance.now();
      const { code, signal } = await runBenchmark(name, file);
      const seconds = ((performance.now() - benchBegan) / 1000).toFixed(0);
      if (code !== 0) {
        crashes.push(`${name} (run ${run}): ${signal ? `killed by ${signal}` : `exit code ${code}`}`);
        console.log(`\n=== ${name} (run ${run}) failed after ${seconds} s ===`);
      } else {
        console.log(`\n=== ${name} (run ${run}) done in ${seconds} s ===`);
      }
      // Rows recorded before a crash are kept: they were measured.
      if (existsSync(file)) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          if (line.trim()) rows.push({ ...(JSON.parse(line) as TargetRow), run });
        }
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log('\n# Performance targets\n');
console.log(
  `machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the end`,
);
console.log(
  `${selected.join(', ')}: ${runs} run${runs === 1 ? '' : 's'} each, ${((performance.now() - began) / 60_000).toFixed(1)} min in all\n`,
);
if (rows.length > 0) console.log(summaryTable(rows, runs));
else console.log('(no target rows were recorded)');
const silent = selected.filter((name) => !rows.some((row) => row.bench === name));
if (silent.length > 0) console.log(`\nno target rows from: ${silent.join(', ')}`);
if (crashes.length > 0) {
  console.log(`\nfailed: ${crashes.join('; ')}`);
  process.exitCode = 1;
}
