import { torontoDay, torontoInstant as wallClockInstant } from '@passage/sla';
import type { Language } from '../api/edge.ts';
import { format, messages } from './messages.ts';
import { label, labels } from './labels.ts';

// Dates, times and durations as people in Ontario read them: America/Toronto, in the
// person's language. Pure functions of their arguments (the clock is passed in).

const locale = (language: Language): string => (language === 'fr' ? 'fr-CA' : 'en-CA');

export function dateTime(iso: string | undefined, language: Language): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locale(language), {
    timeZone: 'America/Toronto',
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(iso));
}

export function date(iso: string | undefined, language: Language): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locale(language), { timeZone: 'America/Toronto', dateStyle: 'long' }).format(
    new Date(iso),
  );
}

/** "2026-11" as "November 2026" / "novembre 2026"; anything else as given. */
export function month(value: string, language: Language): string {
  const match = /^(\d{4})-(\d{2})$/.exec(value);
  if (!match) return value;
  return new Intl.DateTimeFormat(locale(language), { timeZone: 'UTC', month: 'long', year: 'numeric' }).format(
    new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 15)),
  );
}

/** A span of time, coarse enough to read at a glance: "40 s", "42 min", "3 h 5 min", "2 d 4 h". */
export function duration(milliseconds: number, language: Language): string {
  const t = messages[language];
  const seconds = Math.round(Math.abs(milliseconds) / 1000);
  if (seconds < 60) return format(t['time.seconds'], { n: seconds });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return format(t['time.minutes'], { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return format(t['time.hours'], { h: hours, m: minutes % 60 });
  return format(t['time.days'], { d: Math.floor(hours / 24), h: hours % 24 });
}

export function languageName(code: string, language: Language): string {
  try {
    return new Intl.DisplayNames([locale(language)], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

export function percent(share: number | undefined, language: Language): string {
  return new Intl.NumberFormat(locale(language), { style: 'percent', maximumFractionDigits: 0 }).format(share ?? 0);
}

export function number(value: number, language: Language): string {
  return new Intl.NumberFormat(locale(language)).format(value);
}

export interface SlaTarget {
  readonly target: 'ack' | 'accept';
  readonly dueAt: string;
}

/** The target the receiving agency is working to now: acknowledge while sent, accept until accepted. */
export function currentTarget(referral: {
  state: string;
  acknowledgeDueAt?: string;
  acceptDueAt?: string;
}): SlaTarget | undefined {
  if (referral.state === 'STATE_SENT' && referral.acknowledgeDueAt)
    return { target: 'ack', dueAt: referral.acknowledgeDueAt };
  if ((referral.state === 'STATE_SENT' || referral.state === 'STATE_ACKNOWLEDGED') && referral.acceptDueAt)
    return { target: 'accept', dueAt: referral.acceptDueAt };
  return undefined;
}

export type TargetStatus =
  | { readonly kind: 'due'; readonly target: SlaTarget }
  | { readonly kind: 'met' }
  | { readonly kind: 'missed' }
  | { readonly kind: 'none' };

/**
 * Where a referral stands against its targets. Acknowledge and accept are targets for an
 * agency taking a referral on: while it is pending, the one being worked to; once accepted
 * (in contact, closed), met or missed by when it was acknowledged and accepted; declined or
 * withdrawn, no target applies (nothing was accepted, so nothing was met).
 */
export function targetStatus(referral: {
  state: string;
  acknowledgeDueAt?: string;
  acceptDueAt?: string;
  acknowledgedAt?: string;
  acceptedAt?: string;
  takenOverBy?: string;
}): TargetStatus {
  // Taken over by the crisis line after a missed target: the original recipient's targets no longer run.
  if (referral.takenOverBy) return { kind: 'missed' };
  const target = currentTarget(referral);
  if (target) return { kind: 'due', target };
  if (!['STATE_ACCEPTED', 'STATE_IN_CONTACT', 'STATE_CLOSED'].includes(referral.state) || !referral.acceptedAt)
    return { kind: 'none' };
  const late = (at: string | undefined, due: string | undefined) =>
    at !== undefined && due !== undefined && Date.parse(at) > Date.parse(due);
  return late(referral.acknowledgedAt, referral.acknowledgeDueAt) || late(referral.acceptedAt, referral.acceptDueAt)
    ? { kind: 'missed' }
    : { kind: 'met' };
}

/** "1 h 5 min left to acknowledge" or "Overdue by 12 min to accept". */
export function countdown(target: SlaTarget, now: number, language: Language): { text: string; overdue: boolean } {
  const t = messages[language];
  const left = Date.parse(target.dueAt) - now;
  const values = {
    time: duration(left, language),
    target: t[target.target === 'ack' ? 'countdown.ack' : 'countdown.accept'],
  };
  return left >= 0
    ? { text: format(t['countdown.left'], values), overdue: false }
    : { text: format(t['countdown.overdue'], values), overdue: true };
}

/**
 * Match explains each suggestion in fixed English phrases (services/directory matching):
 * "covers <region>", "serves all of Ontario", "offers a, b", "open 24/7", "open now",
 * "speaks <code>". Shown in the reader's language; an unknown phrase is shown as it came.
 */
export function matchReason(reason: string, language: Language): string {
  const l = labels[language];
  const fr = language === 'fr';
  let m: RegExpExecArray | null;
  if ((m = /^covers (.+)$/.exec(reason))) return `${fr ? 'dessert' : 'covers'} ${label(l.region, m[1])}`;
  if (reason === 'serves all of Ontario') return fr ? 'dessert tout l’Ontario' : reason;
  if ((m = /^offers (.+)$/.exec(reason)))
    return `${fr ? 'offre' : 'offers'} ${m[1]!
      .split(', ')
      .map((need) => label(l.need, need).toLowerCase())
      .join(', ')}`;
  if (reason === 'open 24/7') return fr ? 'ouvert jour et nuit' : reason;
  if (reason === 'open now') return fr ? 'ouvert maintenant' : reason;
  if ((m = /^speaks (.+)$/.exec(reason))) return `${fr ? 'parle' : 'speaks'} ${languageName(m[1]!, language)}`;
  return reason;
}

/** Today's date in Toronto, YYYY-MM-DD, whatever the computer's own time zone. */
export const torontoToday: (now: Date) => string = torontoDay;

/**
 * The instant a Toronto wall-clock date and time (YYYY-MM-DD, HH:MM) names, across daylight
 * saving time: what a date or time field means in an Ontario network, whatever the
 * computer's own zone.
 */
export function torontoInstant(date: string, time: string): Date {
  const [y = 0, m = 0, d = 0] = date.split('-').map(Number);
  const [hh = 0, mm = 0] = time.split(':').map(Number);
  return wallClockInstant(y, m, d, hh * 60 + mm);
}
