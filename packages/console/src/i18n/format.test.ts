import { describe, expect, it } from 'vitest';
import {
  countdown,
  currentTarget,
  dateTime,
  duration,
  targetStatus,
  matchReason,
  month,
  torontoInstant,
  torontoToday,
} from './format.ts';
import { format, messages } from './messages.ts';

describe('console formatting', () => {
  it('shows times in Toronto, in the reader’s language', () => {
    // 15:30 UTC on 28 November is 10:30 in Toronto (EST).
    expect(dateTime('2026-11-28T15:30:00Z', 'en')).toMatch(/Nov\.? 28, 2026.*10:30/);
    expect(dateTime('2026-11-28T15:30:00Z', 'fr')).toMatch(/28 nov\.? 2026.*10 h 30/);
    // Summer: EDT, UTC-4.
    expect(dateTime('2026-07-01T15:30:00Z', 'en')).toMatch(/11:30/);
    expect(month('2026-03', 'fr')).toBe('mars 2026');
  });

  it('reads dates typed in a form as Toronto wall-clock time, across daylight saving time', () => {
    expect(torontoInstant('2026-11-28', '23:59').toISOString()).toBe('2026-11-29T04:59:00.000Z');
    expect(torontoInstant('2026-07-01', '09:30').toISOString()).toBe('2026-07-01T13:30:00.000Z');
    // 8 March 2026: clocks go forward at 2:00; 3:30 is EDT.
    expect(torontoInstant('2026-03-08', '03:30').toISOString()).toBe('2026-03-08T07:30:00.000Z');
    // 23:30 on 28 November in Toronto is already the 29th in UTC.
    expect(torontoToday(new Date('2026-11-29T04:30:00Z'))).toBe('2026-11-28');
  });

  it('ends a sentence on a time with one full stop, not two ("a.m..")', () => {
    const due = dateTime('2026-11-28T15:30:00Z', 'en');
    expect(due).toMatch(/a\.m\.$/);
    const sentence = format(messages.en['review.due'], { due });
    expect(sentence).toMatch(/10:30 a\.m\.$/);
    expect(sentence).not.toContain('..');
    expect(format(messages.en['people.issued.linkHint'], { expires: dateTime('2026-11-28T21:30:00Z', 'en') })).toMatch(
      /4:30 p\.m\.$/,
    );
    // A value without its own full stop still gets the sentence's.
    expect(format(messages.fr['review.due'], { due: dateTime('2026-11-28T15:30:00Z', 'fr') })).toMatch(/10 h 30\.$/);
    expect(format('Saved: {state}.', { state: 'Sent' })).toBe('Saved: Sent.');
  });

  it('reads durations at a glance', () => {
    expect(duration(40_400, 'en')).toBe('40 s');
    expect(duration(42 * 60_000, 'en')).toBe('42 min');
    expect(duration(185 * 60_000, 'en')).toBe('3 h 5 min');
    expect(duration(52 * 3_600_000, 'fr')).toBe('2 j 4 h');
  });

  it('counts down to the target the agency is working to, then past it', () => {
    const referral = {
      state: 'STATE_SENT',
      acknowledgeDueAt: '2026-11-28T16:00:00Z',
      acceptDueAt: '2026-11-28T19:00:00Z',
    };
    const now = Date.parse('2026-11-28T15:15:00Z');
    expect(countdown(currentTarget(referral)!, now, 'en')).toEqual({
      text: '45 min left to acknowledge',
      overdue: false,
    });
    const acknowledged = { ...referral, state: 'STATE_ACKNOWLEDGED' };
    expect(countdown(currentTarget(acknowledged)!, Date.parse('2026-11-28T19:12:00Z'), 'fr')).toEqual({
      text: 'En retard de 12 min pour accepter',
      overdue: true,
    });
    expect(currentTarget({ ...referral, state: 'STATE_ACCEPTED' })).toBeUndefined();
  });

  it('says targets were met only where a target applied: not on a declined or withdrawn referral', () => {
    const due = { acknowledgeDueAt: '2026-11-28T16:00:00Z', acceptDueAt: '2026-11-28T19:00:00Z' };
    expect(targetStatus({ ...due, state: 'STATE_DECLINED', acknowledgedAt: '2026-11-28T15:10:00Z' })).toEqual({
      kind: 'none',
    });
    expect(targetStatus({ ...due, state: 'STATE_WITHDRAWN' })).toEqual({ kind: 'none' });
    const accepted = { ...due, acknowledgedAt: '2026-11-28T15:10:00Z', acceptedAt: '2026-11-28T18:00:00Z' };
    expect(targetStatus({ ...accepted, state: 'STATE_CLOSED' })).toEqual({ kind: 'met' });
    expect(targetStatus({ ...accepted, state: 'STATE_IN_CONTACT', acceptedAt: '2026-11-28T19:30:00Z' })).toEqual({
      kind: 'missed',
    });
    expect(targetStatus({ ...due, state: 'STATE_SENT' }).kind).toBe('due');
  });

  it('puts the directory’s reasons in French', () => {
    expect(matchReason('covers ottawa', 'fr')).toBe('dessert Ottawa');
    expect(matchReason('offers counselling, housing', 'fr')).toBe('offre counseling, logement');
    expect(matchReason('speaks fr', 'fr')).toBe('parle français');
    expect(matchReason('open now', 'fr')).toBe('ouvert maintenant');
    expect(matchReason('something new', 'fr')).toBe('something new');
  });

  it('has every message in French, none left blank or in English by mistake', () => {
    for (const [key, english] of Object.entries(messages.en)) {
      const french = messages.fr[key as keyof typeof messages.fr];
      expect(french, key).toBeTruthy();
      // Identical only where both languages write it the same way.
      if (french === english)
        expect([
          'app.name',
          'common.total',
          'time.seconds',
          'time.minutes',
          'time.hours',
          'directory.services',
          'detail.note',
          'messages.title',
        ]).toContain(key);
    }
  });
});
