import type { OpeningHours, Weekday } from './agency.ts';

export const agencyTimeZone = 'America/Toronto';

const weekdayOf: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};
const previousDay: Record<Weekday, Weekday> = {
  mon: 'sun',
  tue: 'mon',
  wed: 'tue',
  thu: 'wed',
  fri: 'thu',
  sat: 'fri',
  sun: 'sat',
};

const localParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: agencyTimeZone,
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** The weekday and minute of the day in Toronto at `at`, daylight saving included. */
export function torontoLocal(at: Date): { day: Weekday; minute: number } {
  const parts = Object.fromEntries(localParts.formatToParts(at).map((part) => [part.type, part.value]));
  const day = weekdayOf[parts['weekday'] ?? ''];
  if (!day) throw new Error(`unexpected weekday ${parts['weekday']}`);
  return { day, minute: Number(parts['hour']) * 60 + Number(parts['minute']) };
}

export const timePattern = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

export function minuteOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

export function isOpenAt(hours: OpeningHours, at: Date): boolean {
  if (hours.alwaysOpen) return true;
  const { day, minute } = torontoLocal(at);
  return hours.periods.some((period) => {
    const opens = minuteOf(period.opens);
    const closes = minuteOf(period.closes);
    if (opens < closes) return period.day === day && minute >= opens && minute < closes;
    // Runs past midnight: open from `opens` on its day until `closes` the next morning.
    return (period.day === day && minute >= opens) || (previousDay[day] === period.day && minute < closes);
  });
}
