// The performance targets' rows, collected across benchmarks for `pnpm bench` (bench/run-all.ts).
// A benchmark keeps printing its own tables; for each target it measures it also calls
// `reportTarget`, which prints nothing and, when BENCH_SUMMARY_FILE is set (run-all sets it),
// appends the row to that file as one JSON line. run-all then prints one table over every
// benchmark and run: median, range, in how many runs the target was met.
import { appendFileSync } from 'node:fs';

export interface TargetRow {
  /** The benchmark's name, as run-all knows it: `outbox`, `consent`, `referrals`, … */
  readonly bench: string;
  /** What was measured, with the size it was measured at (rows of one measure are grouped by this text). */
  readonly measure: string;
  /** The measured figure, in `unit`. */
  readonly value: number;
  readonly unit: string;
  /** The target as people read it: `≥ 60 %`, `≤ 3×`, `≤ 15 s`. */
  readonly target: string;
  /**
   * For a target relative to a reference measured in the same run: the plain quotient
   * value ÷ reference (0.29 for 29 %, 16.7 for 16.7×). Shown as a percentage when the target
   * is written with `%`, else as `×`.
   */
  readonly ratio?: number;
  /** Whether this run met the target. */
  readonly met: boolean;
}

/** Records a target's row for `pnpm bench`'s summary (nothing is printed). */
export function reportTarget(row: TargetRow): void {
  const file = process.env['BENCH_SUMMARY_FILE'];
  if (!file) return;
  appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/** A row as run-all read it back, with the run it came from (1-based). */
export interface RecordedRow extends TargetRow {
  readonly run: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A figure with as many digits as it deserves: 12,998 · 412 · 42.5 · 1.9 · 0.0004. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : magnitude >= 0.01 ? 3 : 4;
  return value.toLocaleString('en-CA', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatRatio(ratio: number, target: string): string {
  return target.includes('%') ? `${formatNumber(ratio * 100)} %` : `${formatNumber(ratio)}×`;
}

/**
 * One markdown table over every run's rows: measure | target | median | range | runs | met.
 * Median and range are of the value and, where there is one, of the ratio, each on its own.
 * `totalRuns` is how many times each benchmark was run.
 */
export function summaryTable(rows: readonly RecordedRow[], totalRuns: number): string {
  const groups = new Map<string, RecordedRow[]>();
  for (const row of rows) {
    const key = `${row.bench}\u0000${row.measure}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const lines = [
    '| bench | measure | target | median | range (min–max) | runs | met |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const group of groups.values()) {
    const first = group[0]!;
    const values = group.map((row) => row.value);
    const ratios = group.flatMap((row) => (row.ratio === undefined ? [] : [row.ratio]));
    let middle = `${formatNumber(median(values))} ${first.unit}`;
    let range = `${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))} ${first.unit}`;
    if (ratios.length > 0) {
      middle += ` · ${formatRatio(median(ratios), first.target)}`;
      range += ` · ${formatRatio(Math.min(...ratios), first.target)}–${formatRatio(Math.max(...ratios), first.target)}`;
    }
    const runs = new Set(group.map((row) => row.run)).size;
    const met = group.filter((row) => row.met).length;
    lines.push(
      `| ${first.bench} | ${first.measure} | ${first.target} | ${middle} | ${range} | ${runs} of ${totalRuns} | ${met} of ${group.length} |`,
    );
  }
  return lines.join('\n');
}
