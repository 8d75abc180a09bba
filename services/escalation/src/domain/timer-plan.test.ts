import { describe, expect, it } from 'vitest';
import { UnschedulableEvent, itemsFor, planFor, type ReferralEventFacts } from './timer-plan.ts';

const sent: ReferralEventFacts = {
  type: 'referral.v1.sent',
  referralId: '0193a3c4-0000-7000-8000-000000000001',
  subjectRef: '0193a3c4-0000-7000-8000-0000000000aa',
  fromAgency: 'peel-regional-police',
  toAgency: 'london-coalition',
  priority: 'urgent',
  needs: ['shelter'],
  acknowledgeDueAt: new Date('2026-11-28T12:30:00Z'),
  acceptDueAt: new Date('2026-11-28T14:00:00Z'),
};

describe('timers from referral events', () => {
  it('schedules acknowledge-by and accept-by when a referral is sent', () => {
    expect(planFor(sent)).toEqual({
      kind: 'schedule',
      timers: [
        { referralId: sent.referralId, target: 'acknowledge', dueAt: sent.acknowledgeDueAt },
        { referralId: sent.referralId, target: 'accept', dueAt: sent.acceptDueAt },
      ],
    });
  });

  it('cancels what each later step makes moot', () => {
    expect(planFor({ ...sent, type: 'referral.v1.acknowledged' })).toEqual({
      kind: 'cancel',
      targets: ['acknowledge'],
      reason: 'acknowledged',
    });
    for (const end of ['accepted', 'declined', 'withdrawn', 'closed']) {
      expect(planFor({ ...sent, type: `referral.v1.${end}` })).toMatchObject({
        kind: 'cancel',
        targets: ['acknowledge', 'accept'],
      });
    }
    expect(planFor({ ...sent, type: 'referral.v1.escalated' })).toEqual({ kind: 'nothing' });
  });

  it('refuses to schedule what it cannot', () => {
    expect(() => planFor({ ...sent, acceptDueAt: undefined })).toThrow(UnschedulableEvent);
    expect(() => planFor({ ...sent, referralId: 'nope' })).toThrow(UnschedulableEvent);
    expect(() => planFor({ ...sent, acceptDueAt: new Date('2026-11-28T12:00:00Z') })).toThrow('before');
  });
});

describe('who is told', () => {
  it('tells the crisis line and the sender first, the receiving supervisors after a second miss', () => {
    expect(itemsFor(sent, 0, 'ontario-ht-crisis-line')).toEqual([
      { audience: 'crisis_line', forAgency: 'ontario-ht-crisis-line' },
      { audience: 'sender', forAgency: 'peel-regional-police' },
    ]);
    expect(itemsFor(sent, 1, 'ontario-ht-crisis-line')).toEqual([
      { audience: 'supervisors', forAgency: 'london-coalition' },
    ]);
    expect(itemsFor({ ...sent, toAgency: 'ontario-ht-crisis-line' }, 0, 'ontario-ht-crisis-line')).toEqual([
      { audience: 'sender', forAgency: 'peel-regional-police' },
    ]);
  });
});
