import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assign } from './lifecycle.ts';
import { compareRanked, decodeCursor, encodeCursor, listRank, type Ranked } from './list-order.ts';
import {
  formatReference,
  parseReceiptReference,
  parseReference,
  receiptReference,
  referenceCapacity,
  scramble,
  unscramble,
} from '@passage/vocabulary';
import { states, type Actor, type Referral, type State } from './referral.ts';

const t0 = new Date('2026-12-01T15:00:00Z');
const intake: Actor = { agencyId: 'london-coalition', userId: 'london-intake', role: 'intake_worker' };
const colleague: Actor = { agencyId: 'london-coalition', userId: 'london-counsellor', role: 'intake_worker' };
const supervisor: Actor = { agencyId: 'london-coalition', userId: 'london-supervisor', role: 'supervisor' };
const police: Actor = { agencyId: 'peel-regional-police', userId: 'peel-officer', role: 'officer' };

function referral(overrides: Partial<Referral> = {}): Referral {
  return {
    id: '0193a3c4-0000-7000-8000-000000000001',
    subjectRef: '0193a3c4-0000-7000-8000-0000000000aa',
    fromAgency: police.agencyId,
    toAgency: intake.agencyId,
    priority: 'standard',
    state: 'sent',
    version: 1,
    needs: [],
    language: 'en',
    interpreterNeeded: false,
    doNotContact: false,
    categories: ['needs'],
    grants: [{ consentId: '0193a3c4-0000-7000-8000-00000000c0de', scopeId: 's' }],
    previousReferralId: '',
    sentBy: police,
    sentAt: t0,
    acknowledgeDueAt: t0,
    acceptDueAt: t0,
    reason: '',
    suggestedAgency: '',
    contactMethod: '',
    escalated: false,
    reference: formatReference(1),
    assignedUser: '',
    takenOverBy: '',
    ...overrides,
  };
}

describe('short reference', () => {
  it('looks like R-XXXX-XX in an alphabet without I, L, O or U', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: referenceCapacity - 1 }), (n) => {
        expect(formatReference(n)).toMatch(/^R-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$/);
      }),
    );
  });

  it('reads back to its number, however it is typed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: referenceCapacity - 1 }), (n) => {
        const reference = formatReference(n);
        expect(parseReference(reference)).toBe(n);
        expect(parseReference(reference.toLowerCase())).toBe(n);
        expect(parseReference(reference.replaceAll('-', ' '))).toBe(n);
        expect(parseReference(reference.slice(2).replace('-', ''))).toBe(n);
        expect(parseReference(reference.replaceAll('0', 'O').replaceAll('1', 'I'))).toBe(n);
      }),
    );
  });

  it('is a bijection: two numbers never share a reference, neighbours look unrelated', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: referenceCapacity - 1 }), (x) => {
        expect(unscramble(scramble(x))).toBe(x);
        expect(scramble(unscramble(x))).toBe(x);
      }),
    );
    const seen = new Set(Array.from({ length: 20_000 }, (_, i) => formatReference(i + 1)));
    expect(seen.size).toBe(20_000);
    expect(formatReference(2).slice(2, 6)).not.toBe(formatReference(1).slice(2, 6));
  });

  it('refuses what cannot be a reference', () => {
    for (const text of ['', 'R-', 'R-7K3M-Q', 'R-7K3M-Q9X', 'R-7K3M-U9', 'hello!']) {
      expect(parseReference(text)).toBeUndefined();
    }
    expect(() => formatReference(0)).toThrow(RangeError);
    expect(() => formatReference(referenceCapacity)).toThrow(RangeError);
  });

  it('receipt references follow the consent receipt: the last 8 hex digits, in capitals', () => {
    expect(receiptReference('0193a3c4-0000-7000-8000-00000000c0de')).toBe('0000C0DE');
    expect(parseReceiptReference(' 0000-c0de ')).toBe('0000C0DE');
    expect(parseReceiptReference('R-7K3M-Q9')).toBeUndefined();
  });
});

describe('needs your action first', () => {
  const arbitraryReferral = fc
    .record({
      state: fc.constantFrom(...states),
      priority: fc.constantFrom('urgent' as const, 'standard' as const),
      escalated: fc.boolean(),
      inbound: fc.boolean(),
      resent: fc.boolean(),
      sentAt: fc.integer({ min: 0, max: 10_000 }),
      n: fc.integer({ min: 1, max: 1_000_000 }),
    })
    .map((v) => ({
      ...v,
      referral: referral({
        id: `0193a3c4-0000-7000-8000-${String(v.n).padStart(12, '0')}`,
        state: v.state,
        priority: v.priority,
        escalated: v.escalated,
        fromAgency: v.inbound ? police.agencyId : intake.agencyId,
        toAgency: v.inbound ? intake.agencyId : 'pact-ottawa',
        sentAt: new Date(t0.getTime() + v.sentAt * 1000),
      }),
    }));

  it('ranks received waiting referrals escalated, urgent, other; declined ones of the sender at the top', () => {
    const waiting = (overrides: Partial<Referral>) => listRank(referral(overrides), intake.agencyId, false);
    expect(waiting({ escalated: true })).toBe(0);
    expect(waiting({ priority: 'urgent' })).toBe(1);
    expect(waiting({ state: 'acknowledged' })).toBe(2);
    expect(waiting({ state: 'accepted', escalated: true })).toBe(3);
    const sent = referral({ fromAgency: intake.agencyId, toAgency: 'pact-ottawa', state: 'declined' });
    expect(listRank(sent, intake.agencyId, false)).toBe(0);
    expect(listRank(sent, intake.agencyId, true)).toBe(3);
    expect(listRank(referral({ state: 'declined' }), intake.agencyId, false)).toBe(3);
  });

  it('sorts every list so that nothing needing action comes after something that does not, then newest', () => {
    fc.assert(
      fc.property(fc.array(arbitraryReferral, { minLength: 1, maxLength: 40 }), (items) => {
        const ranked: Ranked[] = items.map((i) => ({
          referral: i.referral,
          rank: listRank(i.referral, intake.agencyId, i.resent),
        }));
        const sorted = [...ranked].sort(compareRanked);
        expect(sorted.length).toBe(ranked.length);
        for (let i = 1; i < sorted.length; i++) {
          const [a, b] = [sorted[i - 1]!, sorted[i]!];
          expect(a.rank).toBeLessThanOrEqual(b.rank);
          if (a.rank === b.rank)
            expect(a.referral.sentAt.getTime()).toBeGreaterThanOrEqual(b.referral.sentAt.getTime());
        }
      }),
    );
  });

  it('cursors carry the rank and id of the last row, and nothing else passes for one', () => {
    const position = { rank: 2 as const, id: '0193a3c4-0000-7000-8000-000000000001' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(decodeCursor(Buffer.from('200').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(Buffer.from('9:0193a3c4-0000-7000-8000-000000000001').toString('base64url'))).toBeUndefined();
    expect(decodeCursor('not a cursor')).toBeUndefined();
  });
});

describe('assignment', () => {
  const open = referral();

  it('lets any worker of the receiving agency claim an unassigned referral', () => {
    const outcome = assign(open, intake.userId, intake, false, t0);
    expect(outcome).toMatchObject({ ok: true, changed: true });
    if (!outcome.ok || !outcome.changed) return;
    expect(outcome.referral).toMatchObject({
      assignedUser: 'london-intake',
      assignedAt: t0,
      version: 2,
      state: 'sent',
    });
    expect(outcome.transition).toMatchObject({
      event: 'assigned',
      from: 'sent',
      to: 'sent',
      assignedUser: 'london-intake',
      reason: 'claimed',
    });
  });

  it('changes nothing when assigned to whoever has it already', () => {
    const mine = referral({ assignedUser: intake.userId, version: 4 });
    expect(assign(mine, intake.userId, intake, false, t0)).toEqual({ ok: true, changed: false, referral: mine });
    expect(assign(referral(), '', supervisor, true, t0)).toMatchObject({ ok: true, changed: false });
  });

  it('keeps claims from being taken: a claimed referral is reassigned by a supervisor only', () => {
    const theirs = referral({ assignedUser: colleague.userId });
    expect(assign(theirs, intake.userId, intake, false, t0)).toMatchObject({
      ok: false,
      error: { code: 'failed_precondition' },
    });
    expect(assign(open, colleague.userId, intake, false, t0)).toMatchObject({
      ok: false,
      error: { code: 'permission_denied' },
    });
    expect(assign(theirs, '', intake, false, t0)).toMatchObject({ ok: false, error: { code: 'permission_denied' } });
    const reassigned = assign(theirs, intake.userId, supervisor, true, t0);
    expect(reassigned).toMatchObject({ ok: true, changed: true, referral: { assignedUser: 'london-intake' } });
    if (reassigned.ok && reassigned.changed) expect(reassigned.transition.reason).toBe('');
  });

  it('lets the assignee give it up, and a supervisor unassign it', () => {
    const mine = referral({ assignedUser: intake.userId });
    const given = assign(mine, '', intake, false, t0);
    expect(given).toMatchObject({ ok: true, changed: true, referral: { assignedUser: '' } });
    if (given.ok && given.changed) {
      expect(given.transition).toMatchObject({ event: 'unassigned', assignedUser: 'london-intake' });
      expect(given.referral.assignedAt).toBeUndefined();
    }
    expect(assign(referral({ assignedUser: colleague.userId }), '', supervisor, true, t0)).toMatchObject({
      ok: true,
      changed: true,
    });
  });

  it('is the receiving agency’s alone, and only while the referral is open', () => {
    expect(assign(open, police.userId, police, true, t0)).toMatchObject({
      ok: false,
      error: { code: 'permission_denied' },
    });
    for (const state of ['closed', 'declined', 'withdrawn'] satisfies State[]) {
      expect(assign(referral({ state }), intake.userId, intake, false, t0)).toMatchObject({
        ok: false,
        error: { code: 'failed_precondition' },
      });
    }
    expect(assign(open, 'not a user!', supervisor, true, t0)).toMatchObject({
      ok: false,
      error: { code: 'invalid_argument', field: 'assigned_user' },
    });
  });

  it('after a take-over belongs to the crisis line: its workers claim it, the original recipient no longer can', () => {
    const crisis: Actor = {
      agencyId: 'ontario-ht-crisis-line',
      userId: 'crisis-counsellor',
      role: 'crisis_counsellor',
    };
    const taken = referral({ escalated: true, takenOverBy: crisis.agencyId, takenOverAt: t0 });
    expect(assign(taken, crisis.userId, crisis, false, t0)).toMatchObject({ ok: true, changed: true });
    expect(assign(taken, intake.userId, intake, false, t0)).toMatchObject({
      ok: false,
      error: { code: 'permission_denied' },
    });
    // It needs the crisis line's action now, and no longer the original recipient's.
    expect(listRank(taken, crisis.agencyId, false)).toBe(0);
    expect(listRank(taken, intake.agencyId, false)).toBe(3);
  });

  it('whatever the sequence of steps, a non-supervisor never takes a referral someone else has', () => {
    const workers = [intake, colleague, supervisor];
    fc.assert(
      fc.property(
        fc.array(fc.record({ who: fc.integer({ min: 0, max: 2 }), to: fc.integer({ min: -1, max: 2 }) }), {
          maxLength: 30,
        }),
        (steps) => {
          let current = open;
          for (const step of steps) {
            const actor = workers[step.who]!;
            const assignee = step.to < 0 ? '' : workers[step.to]!.userId;
            const before = current.assignedUser;
            const outcome = assign(current, assignee, actor, actor.role === 'supervisor', t0);
            if (!outcome.ok) continue;
            if (outcome.changed) {
              expect(outcome.referral.version).toBe(current.version + 1);
              if (actor.role !== 'supervisor') {
                // A worker only claims what nobody has, or gives up their own.
                expect(before === '' || before === actor.userId).toBe(true);
                expect([actor.userId, '']).toContain(outcome.referral.assignedUser);
              }
            }
            current = outcome.referral;
          }
        },
      ),
    );
  });
});
