/**
 * Small-cell suppression for de-identified statistics. A table is published with its row
 * and column totals; every cell or total under the threshold is hidden (primary), then more
 * cells are hidden (complementary) until no hidden value can be worked out from what is
 * shown: not by subtracting one line's shown cells from its total, not as a small sum of
 * several hidden cells, and not by combining lines (exact linear algebra over the table's
 * sum constraints).
 */
export interface CountTable {
  readonly rowLabels: readonly string[];
  readonly columnLabels: readonly string[];
  /** counts[row][column] */
  readonly counts: readonly (readonly number[])[];
}

export interface PublishedCell {
  readonly suppressed: boolean;
  /** 0 when suppressed. */
  readonly count: number;
}

export interface PublishedTable {
  readonly rowLabels: readonly string[];
  readonly columnLabels: readonly string[];
  readonly cells: readonly (readonly PublishedCell[])[];
  readonly rowTotals: readonly PublishedCell[];
  readonly columnTotals: readonly PublishedCell[];
  readonly grandTotal: PublishedCell;
}

/** The table with its margins: row R holds column totals, column C row totals. */
function withMargins(table: CountTable): number[][] {
  const rows = table.rowLabels.length;
  const columns = table.columnLabels.length;
  const full = Array.from({ length: rows + 1 }, () => new Array<number>(columns + 1).fill(0));
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < columns; c += 1) {
      const value = table.counts[r]?.[c] ?? 0;
      const line = full[r]!;
      const totals = full[rows]!;
      line[c] = value;
      line[columns] = line[columns]! + value;
      totals[c] = totals[c]! + value;
      totals[columns] = totals[columns]! + value;
    }
  }
  return full;
}

/** Each line (row or column, with its total) says: its cells sum to its total. */
function lines(rows: number, columns: number): [number, number][][] {
  const result: [number, number][][] = [];
  for (let r = 0; r <= rows; r += 1) result.push(Array.from({ length: columns + 1 }, (_, c) => [r, c]));
  for (let c = 0; c <= columns; c += 1) result.push(Array.from({ length: rows + 1 }, (_, r) => [r, c]));
  return result;
}

/**
 * The hidden cells whose value follows from the shown ones: those whose unit vector lies in
 * the row space of the sum constraints restricted to the hidden cells (exact, in rationals).
 */
export function determinedCells(
  rows: number,
  columns: number,
  hidden: readonly (readonly boolean[])[],
): [number, number][] {
  const unknowns: [number, number][] = [];
  const indexOf = new Map<string, number>();
  for (let r = 0; r <= rows; r += 1) {
    for (let c = 0; c <= columns; c += 1) {
      if (hidden[r]?.[c]) {
        indexOf.set(`${r}:${c}`, unknowns.length);
        unknowns.push([r, c]);
      }
    }
  }
  if (unknowns.length === 0) return [];
  // Constraint rows: +1 for each cell, −1 for the total (the last cell of the line).
  const matrix: bigint[][] = [];
  for (const line of lines(rows, columns)) {
    const row = new Array<bigint>(unknowns.length).fill(0n);
    line.forEach(([r, c], i) => {
      const k = indexOf.get(`${r}:${c}`);
      if (k !== undefined) row[k] = (row[k] ?? 0n) + (i === line.length - 1 ? -1n : 1n);
    });
    if (row.some((v) => v !== 0n)) matrix.push(row);
  }
  // Reduced row echelon form with integer arithmetic (fraction-free elimination).
  const pivots: number[] = [];
  let rank = 0;
  for (let col = 0; col < unknowns.length && rank < matrix.length; col += 1) {
    const pivot = matrix.findIndex((row, i) => i >= rank && row[col] !== 0n);
    if (pivot < 0) continue;
    [matrix[rank], matrix[pivot]] = [matrix[pivot]!, matrix[rank]!];
    const p = matrix[rank]!;
    for (let i = 0; i < matrix.length; i += 1) {
      if (i === rank || matrix[i]![col] === 0n) continue;
      const factor = matrix[i]![col]!;
      matrix[i] = matrix[i]!.map((v, j) => v * p[col]! - factor * p[j]!);
    }
    pivots.push(col);
    rank += 1;
  }
  // A variable is determined when some row of the reduced form has it as its only non-zero.
  const determined: [number, number][] = [];
  for (let i = 0; i < rank; i += 1) {
    const nonZero = matrix[i]!.flatMap((v, j) => (v === 0n ? [] : [j]));
    if (nonZero.length === 1) determined.push(unknowns[nonZero[0]!]!);
  }
  return determined;
}

export interface SuppressOptions {
  /**
   * The row totals (and the grand total) are published elsewhere already, so they are never
   * hidden: suppression works with the cells alone. A line it cannot protect further (a row
   * whose every shown cell is hidden and still adds up to its total) is left as it is.
   */
  readonly shownRowTotals?: boolean;
}

export function suppress(table: CountTable, threshold = 5, options: SuppressOptions = {}): PublishedTable {
  const rows = table.rowLabels.length;
  const columns = table.columnLabels.length;
  const full = withMargins(table);
  const fixed = (c: number): boolean => options.shownRowTotals === true && c === columns;
  const hidden = full.map((line) => line.map((value, c) => value < threshold && !fixed(c)));
  const hide = (cells: [number, number][]): boolean => {
    // The smallest shown cell of the first line at risk: fewest people hidden for the safety gained.
    const shown = cells.filter(([r, c]) => !hidden[r]![c] && !fixed(c));
    if (shown.length === 0) return false;
    const [r, c] = shown.reduce((a, b) => (full[b[0]]![b[1]]! < full[a[0]]![a[1]]! ? b : a));
    hidden[r]![c] = true;
    return true;
  };
  const all = lines(rows, columns);
  // Lines that cannot be protected further (only with shownRowTotals): not looked at again.
  const settled = new Set<number>();
  for (let guard = 0; guard < 2 * (rows + 1) * (columns + 1) + all.length; guard += 1) {
    const atRisk = all.findIndex((line, i) => !settled.has(i) && line.filter(([r, c]) => hidden[r]![c]).length === 1);
    if (atRisk >= 0) {
      if (!hide(all[atRisk]!)) settled.add(atRisk);
      continue;
    }
    // A shown total minus its shown parts tells the sum of the hidden parts: it must not be small either.
    const smallRemainder = all.findIndex((line, i) => {
      if (settled.has(i)) return false;
      const [tr, tc] = line.at(-1)!;
      const parts = line.slice(0, -1).filter(([r, c]) => hidden[r]![c]);
      return !hidden[tr]![tc] && parts.length > 0 && parts.reduce((sum, [r, c]) => sum + full[r]![c]!, 0) < threshold;
    });
    if (smallRemainder >= 0) {
      const line = all[smallRemainder]!;
      if (!hide(line.slice(0, -1)) && !hide(line.slice(-1))) settled.add(smallRemainder);
      continue;
    }
    // Hide a shown neighbour on a determined cell's row, or its column if the row has none.
    const helped = determinedCells(rows, columns, hidden).some(([r, c]) => {
      const row = Array.from({ length: columns + 1 }, (_, j) => [r, j] as [number, number]);
      const column = Array.from({ length: rows + 1 }, (_, i) => [i, c] as [number, number]);
      return hide(row) || hide(column);
    });
    if (!helped) break;
  }
  const cell = (r: number, c: number): PublishedCell =>
    hidden[r]![c] ? { suppressed: true, count: 0 } : { suppressed: false, count: full[r]![c]! };
  return {
    rowLabels: table.rowLabels,
    columnLabels: table.columnLabels,
    cells: Array.from({ length: rows }, (_, r) => Array.from({ length: columns }, (_, c) => cell(r, c))),
    rowTotals: Array.from({ length: rows }, (_, r) => cell(r, columns)),
    columnTotals: Array.from({ length: columns }, (_, c) => cell(rows, c)),
    grandTotal: cell(rows, columns),
  };
}
