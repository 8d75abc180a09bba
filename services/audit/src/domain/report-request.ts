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

/** The figures of the hand-off report a drill-down can open; outcome:<code> opens one outcome cell. */
export const handoffFigures = [
  'referrals',
  'acknowledged',
  'accepted',
  'first_contact',
  'closed',
  'declined',
  'withdrawn',
  'open',
  'open_past_due',
  'escalated',
  'resent',
  'accepted_anywhere',
  'after_hours',
  'after_hours_first_contact',
] as const;
export type HandoffFigure = (typeof handoffFigures)[number] | { readonly outcome: string };

/** Empty: referrals. An outcome cell is outcome:closed:<code>, outcome:declined, … */
export function parseHandoffFigure(value: string, field = 'figure'): HandoffFigure {
  if (value.startsWith('outcome:')) {
    const outcome = value.slice('outcome:'.length);
    if (/^(closed:[a-z_]{1,60}|declined|withdrawn|open)$/.test(outcome)) return { outcome };
    throw invalid(field, 'an outcome is outcome:closed:<code>, outcome:declined, outcome:withdrawn or outcome:open');
  }
  return oneOf(handoffFigures, value || 'referrals', field);
}

/** A drill-down page position: the last referral of the previous page, as "<sent_at ISO>~<id>". */
export function parseReferralCursor(value: string, field = 'cursor'): { sentAt: Date; referralId: string } | undefined {
  if (value === '') return undefined;
  const [at, id] = value.split('~');
  const sentAt = new Date(at ?? '');
  if (Number.isNaN(sentAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id ?? '')) {
    throw invalid(field, 'use the next_cursor of the previous page');
  }
  return { sentAt, referralId: id! };
}

export function referralCursor(last: { sentAt: Date; referralId: string }): string {
  return `${last.sentAt.toISOString()}~${last.referralId}`;
}
