import { describe, expect, it } from 'vitest';
import { apply, type Command } from './lifecycle.ts';
import { states, type Actor, type Referral, type State } from './referral.ts';
import { checkSend, refusedCategories } from './send-rules.ts';

const t0 = new Date('2026-12-01T15:00:00Z');
const later = new Date('2026-12-01T15:05:00Z');
const police: Actor = { agencyId: 'peel-regional-police', userId: 'peel-officer', role: 'officer' };
const london: Actor = { agencyId: 'london-coalition', userId: 'london-intake', role: 'intake_worker' };
const outsider: Actor = { agencyId: 'pact-ottawa', userId: 'pact-intake', role: 'intake_worker' };

function referral(state: State): Referral {
  return {
    id: '0193a3c4-0000-7000-8000-000000000001',
    subjectRef: '0193a3c4-0000-7000-8000-0000000000aa',
    fromAgency: police.agencyId,
    toAgency: london.agencyId,
    priority: 'urgent',
    state,
    version: 3,
    needs: ['shelter'],
    language: 'en',
    interpreterNeeded: false,
    doNotContact: false,
    categories: ['needs'],
    grants: [{ consentId: 'c', scopeId: 's' }],
    previousReferralId: '',
    sentBy: police,
    sentAt: t0,
    acknowledgeDueAt: t0,
    acceptDueAt: t0,
    reason: '',
    suggestedAgency: '',
    contactMethod: '',
    escalated: false,
    takenOverBy: '',
    reference: 'R-0000-01',
    assignedUser: '',
  };
}

const commands: Record<string, Command> = {
  acknowledge: { kind: 'acknowledge' },
  accept: { kind: 'accept' },
  decline: { kind: 'decline', reason: 'no_capacity', suggestedAgency: 'pact-ottawa' },
  record_contact: { kind: 'record_contact', at: later, method: 'phone' },
  close: { kind: 'close', outcome: 'services_provided' },
  withdraw: { kind: 'withdraw', reason: 'person_withdrew' },
};

// The whole transition table of DESIGN.md: from each state, which command leads where.
const allowed: Record<State, Partial<Record<keyof typeof commands, State>>> = {
  sent: { acknowledge: 'acknowledged', accept: 'accepted', decline: 'declined', withdraw: 'withdrawn' },
  acknowledged: { accept: 'accepted', decline: 'declined', withdraw: 'withdrawn' },
  accepted: { record_contact: 'in_contact', close: 'closed', withdraw: 'withdrawn' },
  in_contact: { close: 'closed', withdraw: 'withdrawn' },
  closed: {},
  declined: {},
  withdrawn: {},
};

describe('referral lifecycle', () => {
  for (const state of states) {
    for (const [name, command] of Object.entries(commands)) {
      const target = allowed[state][name];
      const actor = name === 'withdraw' ? police : london;
      it(`${name} from ${state} ${target ? `→ ${target}` : 'is refused'}`, () => {
        const outcome = apply(referral(state), command, actor, later);
        if (target) {
          expect(outcome.ok && outcome.referral.state).toBe(target);
          expect(outcome.ok && outcome.referral.version).toBe(4);
          expect(outcome.ok && outcome.transition).toMatchObject({ from: state, to: target, actor, at: later });
        } else {
          expect(!outcome.ok && outcome.error).toEqual({
            code: 'failed_precondition',
            message: `cannot ${name.replace('_', ' ')} a referral that is ${state.replace('_', ' ')}`,
          });
        }
      });
    }
  }

  it('lets only the recipient move a referral forward and only the sender withdraw it', () => {
    for (const name of ['acknowledge', 'accept', 'decline'] as const) {
      for (const actor of [police, outsider]) {
        const outcome = apply(referral('sent'), commands[name]!, actor, later);
        expect(!outcome.ok && outcome.error.code).toBe('permission_denied');
      }
    }
    const byRecipient = apply(referral('sent'), commands['withdraw']!, london, later);
    expect(!byRecipient.ok && byRecipient.error.code).toBe('permission_denied');
    const bySystem = apply(
      referral('accepted'),
      { kind: 'withdraw', reason: 'consent_revoked', bySystem: true },
      outsider,
      later,
    );
    expect(bySystem.ok && bySystem.referral).toMatchObject({ state: 'withdrawn', reason: 'consent_revoked' });
  });

  it('records the hand-off times', () => {
    const accepted = apply(referral('sent'), commands['accept']!, london, later);
    expect(accepted.ok && [accepted.referral.acknowledgedAt, accepted.referral.acceptedAt]).toEqual([later, later]);
    const contact = apply(referral('accepted'), commands['record_contact']!, london, later);
    expect(contact.ok && contact.referral).toMatchObject({ contactAt: later, contactMethod: 'phone' });
  });

  it('names the bad field of a command', () => {
    const bad = apply(referral('sent'), { kind: 'decline', reason: 'bored', suggestedAgency: '' }, london, later);
    expect(!bad.ok && bad.error).toMatchObject({ code: 'invalid_argument', field: 'reason' });
    const future = apply(
      referral('accepted'),
      { kind: 'record_contact', at: new Date(later.getTime() + 3_600_000), method: 'phone' },
      london,
      later,
    );
    expect(!future.ok && future.error).toMatchObject({ field: 'at' });
    const self = apply(
      referral('sent'),
      { kind: 'decline', reason: 'other', suggestedAgency: 'london-coalition' },
      london,
      later,
    );
    expect(!self.ok && self.error).toMatchObject({ field: 'suggested_agency' });
  });
});

describe('send rules', () => {
  it('refuses only the categories consent does not allow', () => {
    const packet = [
      { category: 'identity' as const, content: 'a' },
      { category: 'health' as const, content: 'b' },
    ];
    expect(refusedCategories(packet, new Set(['identity']))).toEqual(['health']);
  });

  it('names every bad field of a send at once', () => {
    const checked = checkSend({
      idempotencyKey: 'short',
      subjectRef: 'not-a-uuid',
      fromAgency: 'opp',
      toAgency: 'opp',
      priority: undefined,
      needs: ['astrology'],
      language: 'english',
      interpreterNeeded: false,
      packet: [{ category: 'secrets', content: '' }],
    });
    expect(!checked.ok && checked.violations.map((v) => v.field)).toEqual([
      'idempotency_key',
      'subject_ref',
      'to_agency',
      'priority',
      'needs[0]',
      'language',
      'packet[0].category',
      'packet[0].content',
    ]);
  });
});

describe('escalation', () => {
  const system = { agencyId: 'passage-system', userId: 'escalation-service', role: 'service' };
  const at = new Date('2026-11-28T12:00:00Z');

  it('flags a referral whose target passed unmet, without moving it', () => {
    const sent = referral('sent');
    const outcome = apply(sent, { kind: 'escalate', target: 'acknowledge' }, system, at);
    expect(outcome).toMatchObject({
      ok: true,
      referral: { state: 'sent', escalated: true, version: sent.version + 1 },
      transition: { from: 'sent', to: 'sent', event: 'escalated', reason: 'acknowledge_overdue' },
    });
    expect(apply(referral('acknowledged'), { kind: 'escalate', target: 'accept' }, system, at).ok).toBe(true);
  });

  it('refuses once the target is met', () => {
    for (const [state, target] of [
      ['acknowledged', 'acknowledge'],
      ['accepted', 'accept'],
      ['declined', 'acknowledge'],
      ['withdrawn', 'accept'],
    ] as const) {
      expect(apply(referral(state), { kind: 'escalate', target }, system, at)).toMatchObject({
        ok: false,
        error: { code: 'failed_precondition' },
      });
    }
  });
});

describe('take-over by the crisis line', () => {
  const crisis: Actor = { agencyId: 'assaulted-womens-helpline', userId: 'awhl-counsellor', role: 'crisis_counsellor' };
  const escalated = (state: State): Referral => ({ ...referral(state), escalated: true });
  const takeOver: Command = { kind: 'take_over' };
  const taken = (state: State = 'sent'): Referral => {
    const outcome = apply(escalated(state), takeOver, crisis, later);
    if (!outcome.ok) throw new Error(outcome.error.message);
    return outcome.referral;
  };

  it('takes an escalated referral that still waits on its recipient, without moving it', () => {
    for (const state of ['sent', 'acknowledged'] as const) {
      const before = escalated(state);
      expect(apply(before, takeOver, crisis, later)).toMatchObject({
        ok: true,
        referral: { state, version: before.version + 1, takenOverBy: crisis.agencyId, takenOverAt: later },
        transition: { from: state, to: state, event: 'taken_over', actor: crisis, reason: '' },
      });
    }
  });

  it('refuses a referral that is not escalated, no longer open to it, or already taken over', () => {
    expect(apply(referral('sent'), takeOver, crisis, later)).toMatchObject({
      ok: false,
      error: { code: 'failed_precondition', message: 'only an escalated referral can be taken over' },
    });
    for (const state of ['accepted', 'in_contact', 'closed', 'declined', 'withdrawn'] as const) {
      expect(apply(escalated(state), takeOver, crisis, later)).toMatchObject({
        ok: false,
        error: { code: 'failed_precondition' },
      });
    }
    const other: Actor = { ...crisis, agencyId: 'another-crisis-line' };
    expect(apply(taken(), takeOver, other, later)).toMatchObject({
      ok: false,
      error: { code: 'failed_precondition', message: /already taken over by assaulted-womens-helpline/ },
    });
  });

  it("is not for the referral's own two agencies", () => {
    for (const actor of [london, police]) {
      expect(apply(escalated('sent'), takeOver, actor, later)).toMatchObject({
        ok: false,
        error: { code: 'permission_denied' },
      });
    }
  });

  it('makes the crisis line the one recipient: it acknowledges, accepts, records contact, closes, declines', () => {
    const original = apply(taken(), { kind: 'acknowledge' }, london, later);
    expect(original).toMatchObject({ ok: false, error: { code: 'permission_denied', message: /took it over/ } });
    for (const command of [commands.accept!, commands.decline!]) {
      expect(apply(taken(), command, london, later)).toMatchObject({ ok: false, error: { code: 'permission_denied' } });
    }
    let current = taken();
    for (const [command, state] of [
      [commands.acknowledge!, 'acknowledged'],
      [commands.accept!, 'accepted'],
      [commands.record_contact!, 'in_contact'],
      [commands.close!, 'closed'],
    ] as const) {
      const outcome = apply(current, command, crisis, later);
      if (!outcome.ok) throw new Error(outcome.error.message);
      expect(outcome.referral).toMatchObject({ state, takenOverBy: crisis.agencyId, toAgency: london.agencyId });
      current = outcome.referral;
    }
    // Referring on: it declines with a suggestion; the sender resends.
    expect(apply(taken(), commands.decline!, crisis, later)).toMatchObject({
      ok: true,
      referral: { state: 'declined' },
    });
    expect(
      apply(taken(), { kind: 'decline', reason: 'no_capacity', suggestedAgency: crisis.agencyId }, crisis, later),
    ).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'suggested_agency' } });
  });

  it('leaves the sender its withdrawal, and escalates no more', () => {
    expect(apply(taken(), commands.withdraw!, police, later)).toMatchObject({
      ok: true,
      referral: { state: 'withdrawn' },
    });
    expect(apply(taken(), commands.withdraw!, crisis, later)).toMatchObject({ ok: false });
    const system: Actor = { agencyId: 'passage-system', userId: 'escalation', role: 'service' };
    expect(apply(taken(), { kind: 'escalate', target: 'accept' }, system, later)).toMatchObject({
      ok: false,
      error: { code: 'failed_precondition', message: /taken over/ },
    });
  });
});
