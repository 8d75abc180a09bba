import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  UnschedulableEvent,
  decide,
  itemsFor,
  nothingApplied,
  targets,
  timerAfter,
  type AppliedReferral,
  type ReferralEventFacts,
  type Target,
  type TimerStatus,
} from './timer-plan.ts';

const sentAt = new Date('2026-11-28T12:00:00Z');
const sent: ReferralEventFacts = {
  type: 'referral.v1.sent',
  referralId: '0193a3c4-0000-7000-8000-000000000001',
  subjectRef: '0193a3c4-0000-7000-8000-0000000000aa',
  fromAgency: 'peel-regional-police',
  toAgency: 'london-coalition',
  priority: 'urgent',
  needs: ['shelter'],
  version: 1,
  state: 'sent',
  acknowledgeDueAt: new Date('2026-11-28T12:30:00Z'),
  acceptDueAt: new Date('2026-11-28T14:00:00Z'),
  acknowledgedAt: undefined,
  acceptedAt: undefined,
  declinedAt: undefined,
  withdrawnAt: undefined,
};
const at = (minutes: number) => new Date(sentAt.getTime() + minutes * 60_000);
const acknowledged = {
  ...sent,
  type: 'referral.v1.acknowledged',
  version: 2,
  state: 'acknowledged',
  acknowledgedAt: at(5),
};
const accepted = { ...acknowledged, type: 'referral.v1.accepted', version: 3, state: 'accepted', acceptedAt: at(20) };
const closed = { ...accepted, type: 'referral.v1.closed', version: 4, state: 'closed' };

describe('timers from referral events', () => {
  it('keeps acknowledge-by and accept-by pending when a referral is sent', () => {
    expect(decide(nothingApplied, sent)).toEqual({
      kind: 'apply',
      applied: { version: 1, state: 'sent' },
      steps: [
        { kind: 'keep', target: 'acknowledge', dueAt: sent.acknowledgeDueAt },
        { kind: 'keep', target: 'accept', dueAt: sent.acceptDueAt },
      ],
    });
  });

  it('settles each target once a step meets or moots it, naming the step', () => {
    expect(decide({ version: 1, state: 'sent' }, acknowledged)).toMatchObject({
      kind: 'apply',
      steps: [
        { kind: 'settle', target: 'acknowledge', reason: 'acknowledged' },
        { kind: 'keep', target: 'accept' },
      ],
    });
    // Accepted straight from sent: acknowledged at the same instant, by the accept.
    const acceptedFromSent = { ...sent, version: 2, state: 'accepted', acknowledgedAt: at(9), acceptedAt: at(9) };
    expect(decide({ version: 1, state: 'sent' }, acceptedFromSent)).toMatchObject({
      steps: [
        { kind: 'settle', reason: 'accepted' },
        { kind: 'settle', reason: 'accepted' },
      ],
    });
    for (const [state, field] of [
      ['declined', 'declinedAt'],
      ['withdrawn', 'withdrawnAt'],
    ] as const) {
      expect(decide({ version: 1, state: 'sent' }, { ...sent, version: 2, state, [field]: at(3) })).toMatchObject({
        steps: [
          { kind: 'settle', reason: state },
          { kind: 'settle', reason: state },
        ],
      });
    }
  });

  it('changes nothing for an event at or below the version applied: a late sent after the close', () => {
    const afterClose = decide(nothingApplied, closed);
    expect(afterClose).toMatchObject({
      kind: 'apply',
      applied: { version: 4, state: 'closed' },
      steps: [
        { kind: 'settle', target: 'acknowledge', dueAt: sent.acknowledgeDueAt, reason: 'acknowledged' },
        { kind: 'settle', target: 'accept', dueAt: sent.acceptDueAt, reason: 'accepted' },
      ],
    });
    const applied = { version: 4, state: 'closed' };
    expect(decide(applied, sent)).toEqual({ kind: 'stale', applied });
    expect(decide(applied, accepted)).toEqual({ kind: 'stale', applied });
    expect(decide(applied, closed)).toEqual({ kind: 'stale', applied });
  });

  it('refuses events it cannot place', () => {
    expect(() => decide(nothingApplied, { ...sent, acceptDueAt: undefined })).toThrow(UnschedulableEvent);
    expect(() => decide(nothingApplied, { ...sent, acceptDueAt: undefined })).toThrow('without its due times');
    expect(() => decide(nothingApplied, { ...sent, referralId: 'nope' })).toThrow(UnschedulableEvent);
    expect(() => decide(nothingApplied, { ...sent, version: 0 })).toThrow("without the referral's version");
    expect(() => decide(nothingApplied, { ...sent, state: 'exploded' })).toThrow('unknown referral state');
    expect(() => decide(nothingApplied, { ...sent, acceptDueAt: new Date('2026-11-28T12:00:00Z') })).toThrow('before');
  });

  it('never makes a settled timer pending again, and leaves a fired one fired', () => {
    const keep = { kind: 'keep', target: 'accept', dueAt: at(60) } as const;
    const settle = { kind: 'settle', target: 'accept', dueAt: at(60), reason: 'closed' } as const;
    const pending: TimerStatus = { state: 'pending', dueAt: at(60), reason: '' };
    const fired: TimerStatus = { state: 'fired', dueAt: at(60), reason: '' };
    const cancelled: TimerStatus = { state: 'cancelled', dueAt: at(60), reason: 'accepted' };
    expect(timerAfter(undefined, keep)).toEqual(pending);
    expect(timerAfter(cancelled, keep)).toBe(cancelled);
    expect(timerAfter(fired, keep)).toBe(fired);
    expect(timerAfter(undefined, settle)).toEqual({ state: 'cancelled', dueAt: at(60), reason: 'closed' });
    expect(timerAfter(pending, settle)).toEqual({ state: 'cancelled', dueAt: at(60), reason: 'closed' });
    expect(timerAfter(fired, settle)).toBe(fired);
    expect(timerAfter(cancelled, settle)).toBe(cancelled);
  });
});

// A model of the referral lifecycle (services/referrals/src/domain/lifecycle.ts): from each
// state, the steps a referral can take, and which targets each step meets.
type Step =
  'acknowledged' | 'accepted' | 'declined' | 'withdrawn' | 'contact_recorded' | 'closed' | 'escalated' | 'taken_over';
const next: Record<string, readonly Step[]> = {
  sent: ['acknowledged', 'accepted', 'declined', 'withdrawn', 'escalated', 'taken_over'],
  acknowledged: ['accepted', 'declined', 'withdrawn', 'escalated', 'taken_over'],
  accepted: ['contact_recorded', 'closed', 'withdrawn'],
  in_contact: ['closed', 'withdrawn'],
  closed: [],
  declined: [],
  withdrawn: [],
};
const stateAfter: Record<Step, string | undefined> = {
  acknowledged: 'acknowledged',
  accepted: 'accepted',
  declined: 'declined',
  withdrawn: 'withdrawn',
  contact_recorded: 'in_contact',
  closed: 'closed',
  escalated: undefined, // stays
  taken_over: undefined, // stays
};
const openIn: Record<Target, readonly string[]> = { acknowledge: ['sent'], accept: ['sent', 'acknowledged'] };

interface History {
  readonly events: ReferralEventFacts[];
  /** Per target, the step that met it, in order; absent while unmet. */
  readonly metBy: Partial<Record<Target, string>>;
}

/** A referral's events, in order: sent, then steps picked by `choices`, `gaps` minutes apart. */
function history(choices: readonly number[], gaps: readonly number[]): History {
  let current: ReferralEventFacts = sent;
  let time = sentAt.getTime();
  const events = [current];
  const metBy: Partial<Record<Target, string>> = {};
  choices.forEach((choice, i) => {
    // Taken over once at most (the referrals service refuses a second).
    const allowed = next[current.state]!.filter((s) => s !== 'taken_over' || !current.takenOverAt);
    if (allowed.length === 0) return;
    const step = allowed[choice % allowed.length]!;
    time += (gaps[i] ?? 1) * 60_000;
    const now = new Date(time);
    const state = stateAfter[step] ?? current.state;
    current = {
      ...current,
      type: `referral.v1.${step}`,
      version: current.version + 1,
      state,
      ...(step === 'acknowledged' ? { acknowledgedAt: now } : {}),
      ...(step === 'accepted' ? { acceptedAt: now, acknowledgedAt: current.acknowledgedAt ?? now } : {}),
      ...(step === 'declined' ? { declinedAt: now } : {}),
      ...(step === 'withdrawn' ? { withdrawnAt: now } : {}),
      ...(step === 'taken_over' ? { takenOverAt: now } : {}),
    };
    for (const target of targets) {
      if (!metBy[target] && (!openIn[target].includes(state) || current.takenOverAt)) metBy[target] = step;
    }
    events.push(current);
  });
  return { events, metBy };
}

interface Stored {
  applied: AppliedReferral;
  timers: Map<Target, TimerStatus>;
}

/** What the handler and the timer store do with a sequence of deliveries. */
function deliver(events: readonly ReferralEventFacts[]): Stored {
  const stored: Stored = { applied: nothingApplied, timers: new Map() };
  for (const event of events) {
    const decision = decide(stored.applied, event);
    if (decision.kind === 'stale') continue;
    stored.applied = decision.applied;
    for (const step of decision.steps) stored.timers.set(step.target, timerAfter(stored.timers.get(step.target), step));
  }
  return stored;
}

const arbitraryHistory = fc
  .record({
    choices: fc.array(fc.nat(), { maxLength: 8 }),
    gaps: fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 8, maxLength: 8 }),
  })
  .map(({ choices, gaps }) => history(choices, gaps));

/** The history's events delivered in any order, some more than once (redeliveries). */
const arbitraryDelivery = arbitraryHistory.chain((h) =>
  fc
    .record({
      extra: fc.array(fc.nat({ max: h.events.length - 1 }), { maxLength: 4 }),
      keys: fc.array(fc.nat(), { minLength: h.events.length + 4, maxLength: h.events.length + 4 }),
    })
    .map(({ extra, keys }) => {
      const indices = [...h.events.keys(), ...extra];
      const order = indices.map((index, i) => ({ index, key: keys[i]! })).sort((a, b) => a.key - b.key);
      return { history: h, delivered: order.map(({ index }) => h.events[index]!) };
    }),
);

describe('take-over by the crisis line', () => {
  it("settles the original recipient's unmet targets, naming the take-over, and keeps what was met before", () => {
    const takenFromSent = { ...sent, type: 'referral.v1.taken_over', version: 3, takenOverAt: at(40) };
    expect(decide({ version: 2, state: 'sent' }, takenFromSent)).toMatchObject({
      kind: 'apply',
      steps: [
        { kind: 'settle', target: 'acknowledge', reason: 'taken_over' },
        { kind: 'settle', target: 'accept', reason: 'taken_over' },
      ],
    });
    // The crisis line acknowledges after: the acknowledge target was still settled by the take-over.
    const ackByCrisisLine = { ...takenFromSent, version: 4, state: 'acknowledged', acknowledgedAt: at(45) };
    expect(decide(nothingApplied, ackByCrisisLine)).toMatchObject({
      steps: [{ reason: 'taken_over' }, { reason: 'taken_over' }],
    });
    const takenFromAcknowledged = { ...acknowledged, version: 4, takenOverAt: at(90) };
    expect(decide(nothingApplied, takenFromAcknowledged)).toMatchObject({
      steps: [
        { kind: 'settle', target: 'acknowledge', reason: 'acknowledged' },
        { kind: 'settle', target: 'accept', reason: 'taken_over' },
      ],
    });
  });
});

describe('order independence', () => {
  it('in order, the timers are pending exactly while their target is unmet, and name the step that met it', () => {
    fc.assert(
      fc.property(arbitraryHistory, ({ events, metBy }) => {
        const last = events.at(-1)!;
        const { applied, timers } = deliver(events);
        expect(applied).toEqual({ version: last.version, state: last.state });
        for (const target of targets) {
          const timer = timers.get(target)!;
          expect(timer.dueAt).toEqual(target === 'acknowledge' ? sent.acknowledgeDueAt : sent.acceptDueAt);
          if (openIn[target].includes(last.state) && !last.takenOverAt)
            expect(timer).toMatchObject({ state: 'pending', reason: '' });
          else expect(timer).toMatchObject({ state: 'cancelled', reason: metBy[target] });
        }
      }),
      { numRuns: 1000, seed: 1309 },
    );
  });

  it('any order of delivery, redeliveries included, ends with the timers of the in-order sequence', () => {
    fc.assert(
      fc.property(arbitraryDelivery, ({ history: h, delivered }) => {
        const inOrder = deliver(h.events);
        const anyOrder = deliver(delivered);
        expect(anyOrder.applied).toEqual(inOrder.applied);
        expect(new Map([...anyOrder.timers].sort())).toEqual(new Map([...inOrder.timers].sort()));
        // In particular: no pending timer on a finished referral.
        if (['closed', 'declined', 'withdrawn'].includes(inOrder.applied.state)) {
          expect(anyOrder.timers.size).toBe(2);
          expect([...anyOrder.timers.values()].filter((t) => t.state === 'pending')).toEqual([]);
        }
      }),
      { numRuns: 3000, seed: 1309 },
    );
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
