/**
 * Ontario's statutory holidays (Employment Standards Act, 2000, s. 1), computed for any
 * year: New Year's Day, Family Day (3rd Monday of February), Good Friday, Victoria Day (the
 * Monday before 25 May), Canada Day, Labour Day (1st Monday of September), Thanksgiving (2nd
 * Monday of October), Christmas Day and Boxing Day. A holiday on a weekend is observed on
 * the next weekday that is not itself a holiday, as the Ontario Public Service does.
 */
export type LocalDate = string; // "YYYY-MM-DD", a day in Toronto

const pad = (n: number): string => String(n).padStart(2, '0');
const ymd = (y: number, m: number, d: number): LocalDate => `${y}-${pad(m)}-${pad(d)}`;
/** 0 = Sunday … 6 = Saturday, of a calendar date (no time zone involved). */
const weekday = (y: number, m: number, d: number): number => new Date(Date.UTC(y, m - 1, d)).getUTCDay();

function nthMonday(y: number, m: number, n: number): number {
  const first = weekday(y, m, 1);
  return 1 + ((8 - first) % 7) + (n - 1) * 7;
}

/** Easter Sunday (anonymous Gregorian computus). */
function easter(y: number): { m: number; d: number } {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return { m: month, d: day };
}

function shift(y: number, m: number, d: number, days: number): [number, number, number] {
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
}

export function ontarioHolidays(year: number): Map<LocalDate, string> {
  const { m: em, d: ed } = easter(year);
  const victoria = (() => {
    // The last Monday before 25 May: 18–24 May.
    for (let d = 24; d >= 18; d -= 1) if (weekday(year, 5, d) === 1) return d;
    return 24;
  })();
  const dates: [[number, number, number], string][] = [
    [[year, 1, 1], "New Year's Day"],
    [[year, 2, nthMonday(year, 2, 3)], 'Family Day'],
    [shift(year, em, ed, -2), 'Good Friday'],
    [[year, 5, victoria], 'Victoria Day'],
    [[year, 7, 1], 'Canada Day'],
    [[year, 9, nthMonday(year, 9, 1)], 'Labour Day'],
    [[year, 10, nthMonday(year, 10, 2)], 'Thanksgiving'],
    [[year, 12, 25], 'Christmas Day'],
    [[year, 12, 26], 'Boxing Day'],
  ];
  const observed = new Map<LocalDate, string>();
  for (const [[y, m, d], name] of dates) {
    let day: [number, number, number] = [y, m, d];
    while (weekday(...day) === 0 || weekday(...day) === 6 || observed.has(ymd(...day))) day = shift(...day, 1);
    observed.set(ymd(...day), day[2] === d && day[1] === m ? name : `${name} (observed)`);
  }
  return observed;
}
