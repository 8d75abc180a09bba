import { PassageError } from '@passage/errors';

/** What a report may be asked for; anything else is refused naming the field. */
export const handoffGroupings = ['agency', 'region', 'priority', 'month'] as const;
export type HandoffGrouping = (typeof handoffGroupings)[number];

export const statisticsDimensions = ['region', 'month', 'need', 'outcome'] as const;
export type StatisticsDimension = (typeof statisticsDimensions)[number];

/** Half-open: since ≤ t < until; either end may be open. */
export interface TimeWindow {
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
}

function oneOf<T extends string>(allowed: readonly T[], value: string, field: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const given = value === '' ? 'nothing was given' : `"${value}" is not one of them`;
  throw invalid(field, `choose one of ${allowed.join(', ')}; ${given}`);
}

/** A request refused naming its field. */
function invalid(field: string, description: string): PassageError {
  return PassageError.invalid([{ field, description }]);
}

/** Empty: by agency. */
export function parseGrouping(value: string, field = 'group_by'): HandoffGrouping {
  return oneOf(handoffGroupings, value || 'agency', field);
}

export function parseStatisticsAxes(
  rows: string,
  columns: string,
): { rows: StatisticsDimension; columns: StatisticsDimension } {
  const parsed = {
    // Empty: regions down, months across.
    rows: oneOf(statisticsDimensions, rows || 'region', 'rows'),
    columns: oneOf(statisticsDimensions, columns || 'month', 'columns'),
  };
  if (parsed.rows === parsed.columns) throw invalid('columns', 'rows and columns must be different dimensions');
  return parsed;
}

export function checkWindow(window: TimeWindow, field = 'range'): TimeWindow {
  if (window.since && window.until && window.since.getTime() >= window.until.getTime()) {
    throw invalid(field, `since (${window.since.toISOString()}) must be before until (${window.until.toISOString()})`);
  }
  return window;
}
