import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { publishLoopClosure, rateOf, type LoopCounts } from './loop-closure.ts';
import { determinedCells, suppress } from './suppression.ts';
import { sentAfterHours } from './opening-hours.ts';

const none = { count: 0, p50Seconds: 0, p90Seconds: 0, maxSeconds: 0 };
const group = (name: string, outcomes: Record<string, number>, extra: Partial<LoopCounts> = {}): LoopCounts => ({
  group: name,
  referrals: Object.values(outcomes).reduce((a, b) => a + b, 0),
  outcomes: new Map(Object.entries(outcomes)),
  resent: 0,
  afterHours: 0,
  acceptAnywhere: none,
  afterHoursFirstContact: none,
  ...extra,
});

describe('loop-closure figures', () => {
  it('computes the rates from shown counts', () => {
    const published = publishLoopClosure(
      [
        group('a', { 'closed:services_provided': 12, declined: 6, open: 7 }, { resent: 5, afterHours: 9 }),
        group('b', { 'closed:services_provided': 8, declined: 5, open: 10 }, { resent: 6, afterHours: 5 }),
      ],
      { acceptAnywhere: none, afterHoursFirstContact: none },
    );
    const [a] = published.rows;
    expect(a!.closed).toEqual({ suppressed: false, count: 12 });
    expect(a!.closureRate.value).toBeCloseTo(12 / 25, 12);
    expect(a!.declineRate.value).toBeCloseTo(6 / 25, 12);
    expect(a!.resendRate.value).toBeCloseTo(5 / 25, 12);
    expect(published.total.closed).toEqual({ suppressed: false, count: 20 });
    expect(published.total.closureRate.value).toBeCloseTo(20 / 48, 12);
    expect(published.total.outcomes.map((o) => o.outcome)).toEqual(['closed:services_provided', 'declined', 'open']);
  });

  it('hides a rate with its count, and a closed count that would give a hidden outcome away', () => {
    expect(rateOf({ suppressed: true, count: 0 }, 10)).toEqual({ suppressed: true, value: 0 });
    const published = publishLoopClosure(
      [
        group('a', { 'closed:services_provided': 20, 'closed:unable_to_contact': 2, declined: 3, open: 10 }),
        group('b', { 'closed:services_provided': 30, 'closed:unable_to_contact': 6, declined: 8, open: 12 }),
      ],
      { acceptAnywhere: none, afterHoursFirstContact: none },
    );
    const [a] = published.rows;
    const cell = (o: string) => a!.outcomes.find((x) => x.outcome === o)!.count;
    expect(cell('closed:unable_to_contact').suppressed).toBe(true);
    expect(cell('declined').suppressed).toBe(true);
    // Closed would be 22 = 35 − 3 − 10: it is hidden while a part of that remainder is.
    expect(a!.closed.suppressed).toBe(true);
    expect(a!.closureRate.suppressed).toBe(true);
  });

  it('hides duration figures over a hidden count', () => {
    const figures = { count: 3, p50Seconds: 60, p90Seconds: 90, maxSeconds: 100 };
    const published = publishLoopClosure(
      [group('a', { open: 20 }, { afterHours: 3, afterHoursFirstContact: figures }), group('b', { open: 20 })],
      { acceptAnywhere: none, afterHoursFirstContact: figures },
    );
    expect(published.rows[0]!.afterHoursFirstContact).toEqual({
      suppressed: true,
      count: 0,
      p50Seconds: 0,
      p90Seconds: 0,
      maxSeconds: 0,
    });
    expect(published.total.afterHoursFirstContact.suppressed).toBe(true);
  });

  it('never publishes a small outcome cell, nor one that follows from what is shown (property)', () => {
    const outcomes = ['closed:services_provided', 'closed:unable_to_contact', 'declined', 'withdrawn', 'open'];
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat({ max: 30 }), { minLength: outcomes.length, maxLength: outcomes.length }), {
          minLength: 1,
          maxLength: 5,
        }),
        (table) => {
          const groups = table.map((line, i) =>
            group(`g${i}`, Object.fromEntries(outcomes.map((o, j) => [o, line[j]!]))),
          );
          const published = publishLoopClosure(groups, { acceptAnywhere: none, afterHoursFirstContact: none });
          const present = [...new Set(groups.flatMap((g) => [...g.outcomes.keys()]))];
          const hidden = published.rows.map((row) => [
            ...present.map((o) => row.outcomes.find((x) => x.outcome === o)!.count.suppressed),
            false, // the group's referrals: shown by the report already
          ]);
          hidden.push([
            ...present.map((o) => published.total.outcomes.find((x) => x.outcome === o)!.count.suppressed),
            false,
          ]);
          for (const row of [...published.rows, published.total]) {
            for (const o of row.outcomes) if (!o.count.suppressed) expect(o.count.count).toBeGreaterThanOrEqual(5);
          }
          // Determined hidden cells only where a row has nothing else left to hide (its every
          // other cell hidden and its total shown): the report's own count says it already.
          for (const [r, c] of determinedCells(groups.length, present.length, hidden)) {
            expect(r).toBeLessThan(groups.length);
            expect(hidden[r]!.slice(0, -1).filter((h, j) => j !== c && !h)).toEqual([]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('suppression with row totals shown elsewhere', () => {
  it('never hides a row total, and hides the cells that would follow from it', () => {
    const table = suppress(
      {
        rowLabels: ['a', 'b'],
        columnLabels: ['x', 'y'],
        counts: [
          [3, 20],
          [10, 12],
        ],
      },
      5,
      { shownRowTotals: true },
    );
    expect(table.rowTotals.every((t) => !t.suppressed)).toBe(true);
    expect(table.grandTotal.suppressed).toBe(false);
    expect(table.cells[0]![0]!.suppressed).toBe(true);
    // 23 − 3 would tell the hidden 3: the 20 goes too, then the column partners.
    expect(table.cells[0]![1]!.suppressed).toBe(true);
    expect(
      determinedCells(2, 2, [
        [...table.cells[0]!.map((c) => c.suppressed), false],
        [...table.cells[1]!.map((c) => c.suppressed), false],
        [...table.columnTotals.map((c) => c.suppressed), false],
      ]),
    ).toEqual([]);
  });
});

describe('after hours', () => {
  const weekdays = {
    alwaysOpen: false,
    periods: ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, opens: '09:00', closes: '17:00' })),
  };
  it('reads the agency hours in Toronto time, and says nothing when they are unknown', () => {
    expect(sentAfterHours(weekdays, new Date('2026-12-01T15:00:00Z'))).toBe(false); // Tue 10:00
    expect(sentAfterHours(weekdays, new Date('2026-12-02T03:00:00Z'))).toBe(true); // Tue 22:00
    expect(sentAfterHours(weekdays, new Date('2026-12-05T15:00:00Z'))).toBe(true); // Sat 10:00
    expect(sentAfterHours({ alwaysOpen: true, periods: [] }, new Date('2026-12-05T08:00:00Z'))).toBe(false);
    expect(sentAfterHours({ alwaysOpen: false, periods: [] }, new Date('2026-12-05T08:00:00Z'))).toBeUndefined();
    expect(sentAfterHours(undefined, new Date())).toBeUndefined();
    const overnight = { alwaysOpen: false, periods: [{ day: 'fri', opens: '20:00', closes: '02:00' }] };
    expect(sentAfterHours(overnight, new Date('2026-12-05T06:30:00Z'))).toBe(false); // Sat 01:30
    expect(sentAfterHours(overnight, new Date('2026-12-05T07:30:00Z'))).toBe(true); // Sat 02:30
  });
});
