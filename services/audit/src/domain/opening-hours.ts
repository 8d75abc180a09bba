/**
 * Whether a receiving agency was open when a referral reached it, from the opening hours the
 * directory published (directory.v1.agency_upserted). Weekly periods in America/Toronto; a
 * period that closes before it opens runs past midnight. Statutory holidays are not counted
 * as closed here (docs/adr/0042-loop-closure-and-drill-down.md).
 */
export interface AgencyHours {
  readonly alwaysOpen: boolean;
  readonly periods: readonly { readonly day: string; readonly opens: string; readonly closes: string }[];
}

const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const weekdayOf: Record<string, string> = {
  Sun: 'sun',
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
};

const local = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Toronto',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

const minuteOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Hours as published; undefined when unknown (a listing from before hours were published). */
export function knownHours(hours: AgencyHours | undefined): AgencyHours | undefined {
  if (!hours) return undefined;
  return hours.alwaysOpen || hours.periods.length > 0 ? hours : undefined;
}

export function isOpenAt(hours: AgencyHours, at: Date): boolean {
  if (hours.alwaysOpen) return true;
  const parts = Object.fromEntries(local.formatToParts(at).map((p) => [p.type, p.value]));
  const day = weekdayOf[parts['weekday'] ?? ''] ?? '';
  const previous = days[(days.indexOf(day as (typeof days)[number]) + 6) % 7];
  const minute = Number(parts['hour']) * 60 + Number(parts['minute']);
  return hours.periods.some((period) => {
    const opens = minuteOf(period.opens);
    const closes = minuteOf(period.closes);
    if (opens < closes) return period.day === day && minute >= opens && minute < closes;
    return (period.day === day && minute >= opens) || (period.day === previous && minute < closes);
  });
}

/** True: sent while the agency was closed; false: open; undefined: its hours are not known. */
export function sentAfterHours(hours: AgencyHours | undefined, sentAt: Date): boolean | undefined {
  const known = knownHours(hours);
  return known ? !isOpenAt(known, sentAt) : undefined;
}
