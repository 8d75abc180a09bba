/** How a command prints rows: a table for people, CSV or JSON for tools. */
export type Format = 'table' | 'csv' | 'json';

export type Row = Record<string, string | number | boolean>;

export function formatRows(rows: readonly Row[], columns: readonly string[], format: Format): string {
  if (format === 'json') return JSON.stringify(rows, null, 2);
  if (format === 'csv') {
    const cell = (value: string | number | boolean | undefined): string => {
      // A text a spreadsheet would run as a formula (a name, say) starts with a quote: shown, never run.
      const text =
        value === undefined
          ? ''
          : typeof value === 'string' && /^[=+\-@\t\r]/.test(value)
            ? `'${value}`
            : String(value);
      return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    };
    return [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))].join('\n');
  }
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => String(row[c] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (/^-?[\d.,]+%?$|^—$/.test(v) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...rows.map((row) => line(columns.map((c) => String(row[c] ?? '')))),
  ].join('\n');
}

/** Seconds as a person reads a hand-off time: 45s, 12m, 3.5h, 2.1d. */
export function duration(seconds: number, count: number): string {
  if (count === 0) return '—';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m`;
  if (seconds < 36 * 3600) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86400).toFixed(1)}d`;
}

export const percent = (share: number): string => `${(share * 100).toFixed(0)}%`;
