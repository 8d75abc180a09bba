import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addTo, bucketOf, bucketSeconds, histogramBuckets, percentile, type Histogram } from './duration-histogram.ts';

const of = (durations: readonly number[]): Histogram => {
  const h: Histogram = new Map();
  for (const d of durations) addTo(h, new Map([[bucketOf(d), 1]]));
  return h;
};

// PostgreSQL's percentile_cont, straight from its definition.
function percentileCont(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const lower = Math.floor(rank);
  return sorted[lower]! + (rank - lower) * ((sorted[Math.ceil(rank)] ?? sorted[lower]!) - sorted[lower]!);
}

describe('hand-off time histograms', () => {
  it('are exact for whole minutes under an hour, like percentile_cont', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 50 }),
        fc.constantFrom(0.5, 0.9),
        (minutes, p) => {
          const seconds = minutes.map((m) => m * 60);
          expect(percentile(of(seconds), p)).toBeCloseTo(percentileCont(seconds, p), 6);
        },
      ),
    );
  });

  it('stay within 2 % for longer hand-offs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 3_600, max: 60 * 86_400 }), { minLength: 1, maxLength: 50 }),
        (seconds) => {
          const exact = percentileCont(seconds, 0.9);
          expect(Math.abs(percentile(of(seconds), 0.9) - exact) / exact).toBeLessThan(0.02);
        },
      ),
    );
  });

  it('keep every duration in range', () => {
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(10 * 365 * 86_400)).toBe(histogramBuckets - 1);
    expect(bucketSeconds(bucketOf(59 * 60))).toBe(59 * 60);
  });
});

describe('Toronto months', () => {
  it('put an evening in Toronto in its own month, across both offsets', async () => {
    const { torontoMonth, torontoMonthStart, nextMonth } = await import('./toronto-month.ts');
    expect(torontoMonth(new Date('2026-11-01T03:30:00Z'))).toBe('2026-10-01'); // 23:30 EDT, 31 October
    expect(torontoMonthStart('2026-11-01').toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(torontoMonthStart('2026-12-01').toISOString()).toBe('2026-12-01T05:00:00.000Z');
    expect(nextMonth('2026-12-01')).toBe('2027-01-01');
  });
});
