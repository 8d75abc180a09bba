import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addOpenMinutes,
  dueTimes,
  slaViolations,
  torontoDay,
  torontoInstant,
  type OpeningHours,
} from './business-time.ts';
import { ontarioHolidays } from './ontario-holidays.ts';

const weekdays9to5: OpeningHours = {
  alwaysOpen: false,
  periods: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, opens: '09:00', closes: '17:00' })),
};
const targets = {
  acknowledgeUrgentMinutes: 30,
  acceptUrgentMinutes: 120,
  acknowledgeStandardMinutes: 120,
  acceptStandardMinutes: 960,
};

describe('Ontario statutory holidays', () => {
  it('computes the movable ones and observes weekend ones on the next weekday', () => {
    expect([...ontarioHolidays(2026).keys()]).toEqual([
      '2026-01-01',
      '2026-02-16',
      '2026-04-03',
      '2026-05-18',
      '2026-07-01',
      '2026-09-07',
      '2026-10-12',
      '2026-12-25',
      '2026-12-28', // Boxing Day falls on a Saturday
    ]);
    const in2027 = ontarioHolidays(2027);
    expect(in2027.get('2027-12-27')).toBe('Christmas Day (observed)');
    expect(in2027.get('2027-12-28')).toBe('Boxing Day (observed)');
    expect(ontarioHolidays(2025).has('2025-04-18')).toBe(true); // Good Friday, Easter on 20 April
    expect(ontarioHolidays(2024).has('2024-05-20')).toBe(true); // Victoria Day
  });
});

describe('due times', () => {
  it('carries a standard target over the weekend to the right minute on Monday', () => {
    const friday = new Date('2026-11-27T21:55:00Z'); // Friday 16:55 in Toronto
    const { acknowledgeBy } = dueTimes(friday, 'standard', targets, weekdays9to5);
    expect(acknowledgeBy.toISOString()).toBe('2026-11-30T15:55:00.000Z'); // Monday 10:55
  });

  it('skips a holiday Monday to Tuesday', () => {
    const friday = new Date('2026-02-13T21:55:00Z'); // Friday before Family Day, 16:55
    expect(addOpenMinutes(friday, 120, weekdays9to5).toISOString()).toBe('2026-02-17T15:55:00.000Z');
  });

  it('counts wall-clock time for urgent referrals, evenings and holidays included', () => {
    const christmasEve = new Date('2026-12-25T03:00:00Z'); // 22:00 on 24 December
    expect(dueTimes(christmasEve, 'urgent', targets, weekdays9to5).acknowledgeBy.toISOString()).toBe(
      '2026-12-25T03:30:00.000Z',
    );
  });

  it('follows an overnight service across the autumn clock change', () => {
    const nights: OpeningHours = {
      alwaysOpen: false,
      periods: (['sat', 'sun'] as const).map((day) => ({ day, opens: '22:00', closes: '06:00' })),
    };
    // Saturday 31 October 2026, 22:00 EDT; the night is nine hours long (clocks go back at 02:00).
    const start = new Date('2026-11-01T02:00:00Z');
    expect(addOpenMinutes(start, 9 * 60, nights).toISOString()).toBe('2026-11-01T11:00:00.000Z'); // 06:00 EST
    expect(addOpenMinutes(start, 9 * 60 + 30, nights).toISOString()).toBe('2026-11-02T03:30:00.000Z'); // Sun 22:30
  });

  it('never falls due before the start, and later targets never fall earlier', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2025-01-01'), max: new Date('2027-12-31'), noInvalidDate: true }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 500 }),
        (start, minutes, more) => {
          const due = addOpenMinutes(start, minutes, weekdays9to5);
          expect(due.getTime()).toBeGreaterThan(start.getTime());
          expect(addOpenMinutes(start, minutes + more, weekdays9to5).getTime()).toBeGreaterThanOrEqual(due.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses missing, non-positive and over-a-week urgent targets', () => {
    expect(slaViolations(targets)).toEqual([]);
    expect(
      slaViolations({ ...targets, acknowledgeUrgentMinutes: 0, acceptUrgentMinutes: 8 * 24 * 60 }).map((v) => v.field),
    ).toEqual(['acknowledgeUrgentMinutes', 'acceptUrgentMinutes']);
    expect(slaViolations({ acknowledgeUrgentMinutes: 30 }).map((v) => v.field)).toEqual([
      'acceptUrgentMinutes',
      'acknowledgeStandardMinutes',
      'acceptStandardMinutes',
    ]);
  });
});

describe('Toronto wall-clock time', () => {
  const intl = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'America/Toronto',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const parts = (at: Date) => Object.fromEntries(intl.formatToParts(at).map((p) => [p.type, p.value]));

  it('names the same day as Intl for any instant, DST changes included (the offset is cached per hour)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
        (at) => {
          const p = parts(at);
          expect(torontoDay(at)).toBe(`${p['year']}-${p['month']}-${p['day']}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('finds the instant of a wall-clock minute as Intl reads it back, around the DST changes of 2026', () => {
    // 8 March 2026: 02:00 does not exist (the first valid minute is 03:00); 1 November: 01:00–02:00 happens twice.
    for (const [d, m, minute] of [
      [8, 3, 119],
      [8, 3, 180],
      [1, 11, 60],
      [1, 11, 119],
      [1, 11, 120],
    ] as const) {
      const p = parts(torontoInstant(2026, m, d, minute));
      expect(Number(p['hour']) * 60 + Number(p['minute'])).toBe(minute);
    }
    for (const inGap of [120, 150, 179]) {
      const gap = parts(torontoInstant(2026, 3, 8, inGap)); // 02:00–02:59 do not exist that day
      expect(`${gap['hour']}:${gap['minute']}`).toBe('03:00');
    }
  });
});
