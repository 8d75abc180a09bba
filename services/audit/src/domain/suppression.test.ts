import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { suppress, type PublishedTable } from './suppression.ts';

/**
 * What an attacker can do with a published table: any line (row or column with its total)
 * with one hidden value gives it away by subtraction; repeat with what was learnt. And a
 * shown total minus the shown cells of its line is the sum of the hidden ones: under 5, it
 * leaks a small count (and when 0, every hidden cell of the line).
 */
function recoverable(table: PublishedTable): string[] {
  const rows = table.rowLabels.length;
  const columns = table.columnLabels.length;
  const grid: (number | undefined)[][] = [
    ...table.cells.map((line, r) => [...line, table.rowTotals[r]!].map((c) => (c.suppressed ? undefined : c.count))),
    [...table.columnTotals, table.grandTotal].map((c) => (c.suppressed ? undefined : c.count)),
  ];
  const learnt: string[] = [];
  const lineCells: [number, number][][] = [
    ...Array.from({ length: rows + 1 }, (_, r) =>
      Array.from({ length: columns + 1 }, (_, c) => [r, c] as [number, number]),
    ),
    ...Array.from({ length: columns + 1 }, (_, c) =>
      Array.from({ length: rows + 1 }, (_, r) => [r, c] as [number, number]),
    ),
  ];
  for (let changed = true; changed;) {
    changed = false;
    for (const line of lineCells) {
      const unknown = line.filter(([r, c]) => grid[r]![c] === undefined);
      const known = line.filter(([r, c]) => grid[r]![c] !== undefined);
      const total = line.at(-1)!;
      const totalKnown = grid[total[0]]![total[1]] !== undefined;
      const partsSum = known.filter((p) => p !== total).reduce((sum, [r, c]) => sum + grid[r]![c]!, 0);
      if (unknown.length === 1) {
        const [r, c] = unknown[0]!;
        grid[r]![c] = unknown[0] === total ? partsSum : grid[total[0]]![total[1]]! - partsSum;
        learnt.push(`${r}:${c}`);
        changed = true;
      } else if (unknown.length > 1 && totalKnown && grid[total[0]]![total[1]]! - partsSum < 5) {
        // Several hidden cells whose sum is known to be under 5: a small count leaks as a group.
        learnt.push(unknown.map(([r, c]) => `${r}:${c}`).join('+'));
        if (grid[total[0]]![total[1]]! - partsSum === 0) {
          for (const [r, c] of unknown) grid[r]![c] = 0;
          changed = true;
        }
      }
    }
  }
  return learnt;
}

const shown = (table: PublishedTable): number[] =>
  [...table.cells.flat(), ...table.rowTotals, ...table.columnTotals, table.grandTotal]
    .filter((c) => !c.suppressed)
    .map((c) => c.count);

describe('small-cell suppression', () => {
  it('hides cells under 5 and enough others that none can be worked out from the totals', () => {
    const published = suppress({
      rowLabels: ['london', 'ottawa', 'windsor'],
      columnLabels: ['2026-09', '2026-10'],
      counts: [
        [12, 3],
        [20, 17],
        [9, 11],
      ],
    });
    expect(published.cells[0]![1]).toEqual({ suppressed: true, count: 0 });
    // London's row total is 15: showing it and the 12 would give the 3 away.
    expect(published.cells[0]![0]!.suppressed || published.rowTotals[0]!.suppressed).toBe(true);
    expect(shown(published)).not.toHaveLength(0);
    expect(shown(published).every((count) => count >= 5)).toBe(true);
    expect(recoverable(published)).toEqual([]);
  });

  it('never shows a value under 5 nor lets one be recovered, for any table', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 60 })), {
          minLength: 25,
          maxLength: 25,
        }),
        (rows, columns, values) => {
          const counts = Array.from({ length: rows }, (_, r) => values.slice(r * 5, r * 5 + columns));
          const published = suppress({
            rowLabels: counts.map((_, r) => `r${r}`),
            columnLabels: counts[0]!.map((_, c) => `c${c}`),
            counts,
          });
          expect(shown(published).every((count) => count >= 5)).toBe(true);
          expect(recoverable(published)).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('hides large values too, totals included: a hidden value is not a small one', () => {
    // Row 0's total (14) is hidden to protect the small cells, while its 6 is shown: a reader
    // told "<5" for the hidden total would be told something false (the console shows "x").
    const published = suppress({
      rowLabels: ['r0', 'r1'],
      columnLabels: ['c0', 'c1', 'c2'],
      counts: [
        [5, 3, 6],
        [3, 1, 0],
      ],
    });
    expect(published.rowTotals[0]).toEqual({ suppressed: true, count: 0 });
    const shownInRow = published.cells[0]!.filter((c) => !c.suppressed);
    expect(shownInRow).not.toHaveLength(0);
    expect(shownInRow.every((c) => c.count >= 5)).toBe(true);
    expect(recoverable(published)).toEqual([]);
  });

  it('shows everything when every cell is large', () => {
    const published = suppress({
      rowLabels: ['a', 'b'],
      columnLabels: ['x', 'y'],
      counts: [
        [10, 20],
        [30, 40],
      ],
    });
    expect(shown(published)).toHaveLength(9);
    expect(published.grandTotal).toEqual({ suppressed: false, count: 100 });
  });
});
