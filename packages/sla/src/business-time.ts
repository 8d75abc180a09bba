import { ontarioHolidays, type LocalDate } from './ontario-holidays.ts';

/**
 * Due times of hand-off targets. An urgent target counts wall-clock minutes. A standard one
 * counts only the minutes the receiving agency is open — its weekly hours in Toronto — and
 * not on Ontario's statutory holidays, unless the agency never closes.
 */
export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

export function isWeekday(day: string): day is Weekday {
  return (weekdays as readonly string[]).includes(day);
}

export interface WeeklyPeriod {
  readonly day: Weekday;
  /** "HH:MM" in Toronto. */
  readonly opens: string;
  /** "HH:MM"; earlier than `opens` runs past midnight into the next day. */
  readonly closes: string;
}

export type OpeningHours =
  { readonly alwaysOpen: true } | { readonly alwaysOpen: false; readonly periods: readonly WeeklyPeriod[] };

/** Indexed by Date.getUTCDay(): Sunday first. */
const byDayNumber: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const minuteOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const dateParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Toronto',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

const hourMs = 3_600_000;
/**
 * Toronto's offset from UTC by UTC hour. It changes only on the hour (DST starts and ends at
 * 02:00 local, 07:00 and 06:00 UTC), so one Intl lookup serves a whole hour: due times are on
 * every Send's path, and a lookup costs far more than the arithmetic (docs/benchmarks.md).
 */
const offsetByHour = new Map<number, number>();

function torontoOffsetMs(at: Date): number {
  const hour = Math.floor(at.getTime() / hourMs);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    const p = Object.fromEntries(
      dateParts.formatToParts(new Date(hour * hourMs)).map((part) => [part.type, part.value]),
    );
    offset =
      Date.UTC(+p['year']!, +p['month']! - 1, +p['day']!, +p['hour']!, +p['minute']!, +p['second']!) - hour * hourMs;
    if (offsetByHour.size >= 100_000) offsetByHour.clear();
    offsetByHour.set(hour, offset);
  }
  return offset;
}

function torontoFields(at: Date): { y: number; m: number; d: number; hh: number; mm: number; ss: number } {
  const wall = new Date(at.getTime() + torontoOffsetMs(at));
  return {
    y: wall.getUTCFullYear(),
    m: wall.getUTCMonth() + 1,
    d: wall.getUTCDate(),
    hh: wall.getUTCHours(),
    mm: wall.getUTCMinutes(),
    ss: wall.getUTCSeconds(),
  };
}

/** The day an instant falls on in Toronto. */
export function torontoDay(at: Date): LocalDate {
  const f = torontoFields(at);
  return `${f.y}-${String(f.m).padStart(2, '0')}-${String(f.d).padStart(2, '0')}`;
}

/** The instant a Toronto wall-clock time names (in a spring-forward gap: the first valid minute after it). */
export function torontoInstant(y: number, m: number, d: number, minuteOfDay: number): Date {
  const wall = Date.UTC(y, m - 1, d, 0, minuteOfDay);
  for (const offsetHours of [5, 4]) {
    const candidate = new Date(wall + offsetHours * 3_600_000);
    const f = torontoFields(candidate);
    if (Date.UTC(f.y, f.m - 1, f.d, f.hh, f.mm) === wall) return candidate;
  }
  // In a spring-forward gap: the first minute after it that exists (at most an hour on).
  return torontoInstant(y, m, d, minuteOfDay + 1);
}

function localDate(y: number, m: number, d: number): { y: number; m: number; d: number; key: LocalDate } {
  const t = new Date(Date.UTC(y, m - 1, d));
  const [yy, mm, dd] = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
  return { y: yy, m: mm, d: dd, key: `${yy}-${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}` };
}

/** The agency's open intervals that start on one Toronto day (an overnight period runs into the next). */
function openIntervals(hours: { periods: readonly WeeklyPeriod[] }, y: number, m: number, d: number): [Date, Date][] {
  const day = byDayNumber[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]!;
  return hours.periods
    .filter((period) => period.day === day)
    .map((period): [Date, Date] => {
      const opens = minuteOf(period.opens);
      const closes = minuteOf(period.closes);
      const end = closes > opens ? torontoInstant(y, m, d, closes) : torontoInstant(y, m, d, 24 * 60 + closes);
      return [torontoInstant(y, m, d, opens), end];
    })
    .sort((a, b) => a[0].getTime() - b[0].getTime());
}

export function addWallClockMinutes(start: Date, minutes: number): Date {
  return new Date(start.getTime() + minutes * 60_000);
}

/** `minutes` of the agency's open time after `start`; holidays count as closed. */
export function addOpenMinutes(start: Date, minutes: number, hours: OpeningHours): Date {
  if (hours.alwaysOpen) return addWallClockMinutes(start, minutes);
  if (hours.periods.length === 0) throw new RangeError('an agency with no opening hours cannot have a standard target');
  let remaining = minutes * 60_000;
  const first = torontoFields(start);
  const holidays = new Map<number, Map<LocalDate, string>>();
  const isHoliday = (y: number, key: LocalDate): boolean => {
    if (!holidays.has(y)) holidays.set(y, ontarioHolidays(y));
    return holidays.get(y)!.has(key);
  };
  // From the day before (an overnight period may still be running) forward, day by day.
  for (let offset = -1; offset < 3 * 366; offset += 1) {
    const day = localDate(first.y, first.m, first.d + offset);
    if (isHoliday(day.y, day.key)) continue;
    for (const [opens, closes] of openIntervals(hours, day.y, day.m, day.d)) {
      const from = Math.max(opens.getTime(), start.getTime());
      if (from >= closes.getTime()) continue;
      const available = closes.getTime() - from;
      if (remaining <= available) return new Date(from + remaining);
      remaining -= available;
    }
  }
  throw new RangeError('the target does not fall within three years of opening hours');
}

/**
 * When the agency next opens, at or after `at`: `at` itself while it is open, undefined when it
 * never closes. Its weekly hours in Toronto; Ontario's statutory holidays count as closed, as
 * for standard targets (the first minute of open time after `at`).
 */
export function nextOpening(at: Date, hours: OpeningHours): Date | undefined {
  if (hours.alwaysOpen) return undefined;
  return addOpenMinutes(at, 0, hours);
}

/** Whether the agency is open at `at` (its hours, holidays closed). */
export function isOpenAt(at: Date, hours: OpeningHours): boolean {
  if (hours.alwaysOpen) return true;
  return nextOpening(at, hours)!.getTime() === at.getTime();
}

/**
 * The after-hours rule (docs/adr/0041-phone-hand-off-and-after-hours.md): a referral sent while
 * its agency is closed, with its clock starting at opening, has its targets counted from the
 * next opening instead of from sending; undefined when the agency is open now (or never
 * closes): then there is no opening to wait for and the clock starts at sending.
 */
export function clockStartAtOpening(sentAt: Date, hours: OpeningHours): Date | undefined {
  const opening = nextOpening(sentAt, hours);
  return opening && opening.getTime() > sentAt.getTime() ? opening : undefined;
}

export interface SlaTargets {
  readonly acknowledgeUrgentMinutes: number;
  readonly acceptUrgentMinutes: number;
  readonly acknowledgeStandardMinutes: number;
  readonly acceptStandardMinutes: number;
}

/** When a referral sent at `sentAt` must be acknowledged and accepted. */
export function dueTimes(
  sentAt: Date,
  priority: 'urgent' | 'standard',
  targets: SlaTargets,
  hours: OpeningHours,
): { acknowledgeBy: Date; acceptBy: Date } {
  if (priority === 'urgent') {
    return {
      acknowledgeBy: addWallClockMinutes(sentAt, targets.acknowledgeUrgentMinutes),
      acceptBy: addWallClockMinutes(sentAt, targets.acceptUrgentMinutes),
    };
  }
  return {
    acknowledgeBy: addOpenMinutes(sentAt, targets.acknowledgeStandardMinutes, hours),
    acceptBy: addOpenMinutes(sentAt, targets.acceptStandardMinutes, hours),
  };
}

/** What the directory refuses: a target missing, not positive, or an urgent one over a week. */
export function slaViolations(targets: Partial<SlaTargets>): { field: string; description: string }[] {
  const week = 7 * 24 * 60;
  const problems: { field: string; description: string }[] = [];
  for (const field of [
    'acknowledgeUrgentMinutes',
    'acceptUrgentMinutes',
    'acknowledgeStandardMinutes',
    'acceptStandardMinutes',
  ] as const) {
    const value = targets[field];
    if (value === undefined || !Number.isInteger(value) || value <= 0) {
      problems.push({ field, description: 'a whole number of minutes, more than zero' });
    } else if (field.includes('Urgent') && value > week) {
      problems.push({ field, description: `an urgent target of at most a week (${week} minutes)` });
    }
  }
  return problems;
}
