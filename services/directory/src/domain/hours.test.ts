import { describe, expect, it } from 'vitest';
import { isOpenAt, torontoLocal } from './hours.ts';

describe('opening hours in America/Toronto', () => {
  it('follows daylight saving time', () => {
    // 13:30Z is 09:30 in summer (UTC-4) and 08:30 in winter (UTC-5).
    expect(torontoLocal(new Date('2026-07-07T13:30:00Z'))).toEqual({ day: 'tue', minute: 9 * 60 + 30 });
    expect(torontoLocal(new Date('2026-12-01T13:30:00Z'))).toEqual({ day: 'tue', minute: 8 * 60 + 30 });
  });

  const nineToFive = {
    alwaysOpen: false as const,
    periods: [{ day: 'tue' as const, opens: '09:00', closes: '17:00' }],
  };

  it('opens at the opening minute and closes at the closing minute', () => {
    expect(isOpenAt(nineToFive, new Date('2026-12-01T13:59:00Z'))).toBe(false);
    expect(isOpenAt(nineToFive, new Date('2026-12-01T14:00:00Z'))).toBe(true);
    expect(isOpenAt(nineToFive, new Date('2026-12-01T21:59:00Z'))).toBe(true);
    expect(isOpenAt(nineToFive, new Date('2026-12-01T22:00:00Z'))).toBe(false);
  });

  it('handles a period that runs past midnight', () => {
    const overnight = {
      alwaysOpen: false as const,
      periods: [{ day: 'fri' as const, opens: '20:00', closes: '02:00' }],
    };
    expect(isOpenAt(overnight, new Date('2026-12-05T06:30:00Z'))).toBe(true); // Sat 01:30 local
    expect(isOpenAt(overnight, new Date('2026-12-05T07:30:00Z'))).toBe(false); // Sat 02:30 local
    expect(isOpenAt(overnight, new Date('2026-12-05T02:00:00Z'))).toBe(true); // Fri 21:00 local
  });

  it('is always open when 24/7', () => {
    expect(isOpenAt({ alwaysOpen: true }, new Date('2026-12-25T08:00:00Z'))).toBe(true);
  });
});
