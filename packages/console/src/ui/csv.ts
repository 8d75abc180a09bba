import { saveFile } from './download.ts';

/**
 * A table as CSV (RFC 4180), for a spreadsheet. A text a spreadsheet would run as a formula
 * (=, +, -, @, tab or carriage return first) starts with a quote: shown, never run — as the
 * CLI's --csv does.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (value: string | number): string => {
    const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [header, ...rows].map((line) => line.map(cell).join(',')).join('\r\n') + '\r\n';
}

export function saveCsv(
  name: string,
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): void {
  saveFile(`${name}.csv`, toCsv(header, rows), 'text/csv;charset=utf-8');
}
