/** Months as Ontario lives them: a referral sent at 23:30 on 31 October in Toronto is October's. */
const monthFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Toronto',
  year: 'numeric',
  month: '2-digit',
});

/** "YYYY-MM-01", the month of an instant in America/Toronto. */
export function torontoMonth(at: Date): string {
  const parts = monthFormat.formatToParts(at);
  const year = parts.find((p) => p.type === 'year')?.value ?? '0000';
  const month = parts.find((p) => p.type === 'month')?.value ?? '01';
  return `${year}-${month}-01`;
}

/** The instant a Toronto month ("YYYY-MM-01") begins. */
export function torontoMonthStart(month: string): Date {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  // Midnight in Toronto is 04:00 or 05:00 UTC; try both and keep the one that is midnight there.
  for (const offsetHours of [4, 5]) {
    const candidate = new Date(Date.UTC(year, mon - 1, 1, offsetHours));
    if (torontoMonth(candidate) === month && torontoMonth(new Date(candidate.getTime() - 1)) !== month)
      return candidate;
  }
  throw new Error(`no start found for ${month}`);
}

export function nextMonth(month: string): string {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  return mon === 12 ? `${year + 1}-01-01` : `${year}-${String(mon + 1).padStart(2, '0')}-01`;
}
