import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clockStartAtOpening, dueTimes, isOpenAt, nextOpening, type OpeningHours } from './business-time.ts';

const weekdays830to1630: OpeningHours = {
  alwaysOpen: false,
  periods: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, opens: '08:30', closes: '16:30' })),
};
const overnight: OpeningHours = {
  alwaysOpen: false,
  periods: [{ day: 'fri', opens: '20:00', closes: '02:00' }],
};
const targets = {
  acknowledgeUrgentMinutes: 60,
  acceptUrgentMinutes: 240,
  acknowledgeStandardMinutes: 480,
  acceptStandardMinutes: 2880,
};

describe('the next opening', () => {
  it('is Monday 08:30 for an urgent referral sent on a Saturday night', () => {
    const saturdayNight = new Date('2026-11-29T04:30:00Z'); // Saturday 23:30 in Toronto
    expect(nextOpening(saturdayNight, weekdays830to1630)).toEqual(new Date('2026-11-30T13:30:00Z'));
    expect(isOpenAt(saturdayNight, weekdays830to1630)).toBe(false);
  });

  it('is the sending time while open, and there is none for an agency that never closes', () => {
    const mondayNoon = new Date('2026-11-30T17:00:00Z');
    expect(nextOpening(mondayNoon, weekdays830to1630)).toEqual(mondayNoon);
    expect(clockStartAtOpening(mondayNoon, weekdays830to1630)).toBeUndefined();
    expect(nextOpening(mondayNoon, { alwaysOpen: true })).toBeUndefined();
    expect(clockStartAtOpening(mondayNoon, { alwaysOpen: true })).toBeUndefined();
  });

  it('skips a statutory holiday: Christmas and the observed Boxing Day of 2026', () => {
    const christmasEve = new Date('2026-12-24T22:00:00Z'); // Thursday 17:00, after closing
    // Friday the 25th and Monday the 28th are holidays: Tuesday the 29th, 08:30.
    expect(clockStartAtOpening(christmasEve, weekdays830to1630)).toEqual(new Date('2026-12-29T13:30:00Z'));
  });

  it('counts an overnight period that is still running as open', () => {
    const saturdayOne = new Date('2026-11-28T06:00:00Z'); // Saturday 01:00, in Friday's 20:00–02:00
    expect(isOpenAt(saturdayOne, overnight)).toBe(true);
    expect(clockStartAtOpening(saturdayOne, overnight)).toBeUndefined();
  });

  const instants = fc.date({
    min: new Date('2026-01-01T00:00:00Z'),
    max: new Date('2028-12-31T00:00:00Z'),
    noInvalidDate: true,
  });

  it('property: the opening is after sending, the agency is open then, and was closed just before', () => {
    fc.assert(
      fc.property(instants, (sentAt) => {
        const opening = clockStartAtOpening(sentAt, weekdays830to1630);
        if (isOpenAt(sentAt, weekdays830to1630)) return opening === undefined;
        if (!opening) return false;
        return (
          opening > sentAt &&
          isOpenAt(opening, weekdays830to1630) &&
          !isOpenAt(new Date(opening.getTime() - 60_000), weekdays830to1630)
        );
      }),
    );
  });

  it('property: due times counted from the opening never fall before it (urgent and standard)', () => {
    fc.assert(
      fc.property(instants, fc.constantFrom('urgent' as const, 'standard' as const), (sentAt, priority) => {
        const opening = clockStartAtOpening(sentAt, weekdays830to1630) ?? sentAt;
        const due = dueTimes(opening, priority, targets, weekdays830to1630);
        return due.acknowledgeBy >= opening && due.acceptBy >= due.acknowledgeBy;
      }),
    );
  });
});
