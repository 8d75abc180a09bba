import {
  actingRecipient,
  closeOutcomes,
  contactMethods,
  declineReasons,
  openStates,
  withdrawReasons,
  type Actor,
  type Referral,
  type ReferralEvent,
  type State,
  type Transition,
} from './referral.ts';

/** A lifecycle command; who may issue it and from which states is decided here alone. */
export type Command =
  | { readonly kind: 'acknowledge' }
  | { readonly kind: 'accept' }
  | { readonly kind: 'decline'; readonly reason: string; readonly suggestedAgency: string }
  | { readonly kind: 'record_contact'; readonly at: Date; readonly method: string }
  | { readonly kind: 'close'; readonly outcome: string }
  | { readonly kind: 'withdraw'; readonly reason: string; readonly bySystem?: boolean }
  /** From the escalation service: a hand-off target passed unmet. The state stays; the referral is flagged. */
  | { readonly kind: 'escalate'; readonly target: EscalationTarget }
  /**
   * The 24/7 crisis line takes an escalated referral over. The caller has checked what the
   * domain cannot know: that the actor's agency is a crisis line of the directory and that
   * the person's consent covers it now (services/referrals/src/app).
   */
  | { readonly kind: 'take_over' };

export const escalationTargets = ['acknowledge', 'accept'] as const;
export type EscalationTarget = (typeof escalationTargets)[number];

/** The states in which a target is still unmet. */
const unmetIn: Record<EscalationTarget, ReadonlySet<State>> = {
  acknowledge: new Set(['sent']),
  accept: new Set(['sent', 'acknowledged']),
};

export type LifecycleError =
  | { readonly code: 'failed_precondition'; readonly message: string }
  | { readonly code: 'permission_denied'; readonly message: string }
  | { readonly code: 'invalid_argument'; readonly field: string; readonly message: string };

export type Outcome = { ok: true; referral: Referral; transition: Transition } | { ok: false; error: LifecycleError };

interface Rule {
  readonly from: ReadonlySet<State>;
  readonly to: State;
  readonly event: ReferralEvent;
  readonly party: 'recipient' | 'sender';
}

/** The states from which an escalated referral may be taken over: still waiting on its recipient. */
export const takeOverStates: ReadonlySet<State> = new Set(['sent', 'acknowledged']);

const rules: Record<Exclude<Command['kind'], 'escalate' | 'take_over'>, Rule> = {
  acknowledge: { from: new Set(['sent']), to: 'acknowledged', event: 'acknowledged', party: 'recipient' },
  accept: { from: new Set(['sent', 'acknowledged']), to: 'accepted', event: 'accepted', party: 'recipient' },
  decline: { from: new Set(['sent', 'acknowledged']), to: 'declined', event: 'declined', party: 'recipient' },
  record_contact: { from: new Set(['accepted']), to: 'in_contact', event: 'contact_recorded', party: 'recipient' },
  close: { from: new Set(['accepted', 'in_contact']), to: 'closed', event: 'closed', party: 'recipient' },
  withdraw: { from: openStates, to: 'withdrawn', event: 'withdrawn', party: 'sender' },
};

function oneOf(value: string, allowed: readonly string[], field: string): LifecycleError | undefined {
  return allowed.includes(value)
    ? undefined
    : { code: 'invalid_argument', field, message: `one of ${allowed.join(', ')}` };
}

function checkArguments(command: Command, referral: Referral, at: Date): LifecycleError | undefined {
  switch (command.kind) {
    case 'decline':
      // An agency id, never free text: it travels in events, which keep no personal data.
      if (command.suggestedAgency && !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(command.suggestedAgency)) {
        return {
          code: 'invalid_argument',
          field: 'suggested_agency',
          message: 'an agency id such as "pact-ottawa", or empty',
        };
      }
      if (
        command.suggestedAgency &&
        (command.suggestedAgency === referral.toAgency || command.suggestedAgency === referral.takenOverBy)
      ) {
        return { code: 'invalid_argument', field: 'suggested_agency', message: 'suggest another agency than your own' };
      }
      return oneOf(command.reason, declineReasons, 'reason');
    case 'record_contact':
      if (command.at.getTime() > at.getTime() + 60_000) {
        return { code: 'invalid_argument', field: 'at', message: 'first contact cannot be in the future' };
      }
      if (command.at.getTime() < referral.sentAt.getTime()) {
        return {
          code: 'invalid_argument',
          field: 'at',
          message: 'first contact cannot be before the referral was sent',
        };
      }
      return oneOf(command.method, contactMethods, 'method');
    case 'close':
      return oneOf(command.outcome, closeOutcomes, 'outcome');
    case 'withdraw':
      return oneOf(command.reason, withdrawReasons, 'reason');
    default:
      return undefined;
  }
}

/**
 * The referral lifecycle (DESIGN.md): sent → acknowledged → accepted → in_contact →
 * closed; declined from sent or acknowledged; withdrawn from any open state. Only the
 * recipient agency moves a referral forward or declines it — the crisis line instead, once
 * it took the referral over; only the sender (or a consent revocation, `bySystem`) withdraws
 * it. Pure: the caller persists the result.
 */
export function apply(referral: Referral, command: Command, actor: Actor, at: Date): Outcome {
  if (command.kind === 'escalate') return escalate(referral, command.target, actor, at);
  if (command.kind === 'take_over') return takeOver(referral, actor, at);
  const rule = rules[command.kind];
  const system = command.kind === 'withdraw' && command.bySystem === true;
  const recipient = actingRecipient(referral);
  const partyAgency = rule.party === 'recipient' ? recipient : referral.fromAgency;
  if (!system && actor.agencyId !== partyAgency) {
    const who =
      rule.party === 'sender'
        ? `the sending agency (${referral.fromAgency})`
        : referral.takenOverBy
          ? `the crisis line that took it over (${referral.takenOverBy})`
          : `the receiving agency (${referral.toAgency})`;
    return {
      ok: false,
      error: { code: 'permission_denied', message: `only ${who} may ${command.kind.replace('_', ' ')} this referral` },
    };
  }
  if (!rule.from.has(referral.state)) {
    return {
      ok: false,
      error: {
        code: 'failed_precondition',
        message: `cannot ${command.kind.replace('_', ' ')} a referral that is ${referral.state.replace('_', ' ')}`,
      },
    };
  }
  const invalid = checkArguments(command, referral, at);
  if (invalid) return { ok: false, error: invalid };

  const base = { ...referral, state: rule.to, version: referral.version + 1 };
  let next: Referral;
  let reason = '';
  switch (command.kind) {
    case 'acknowledge':
      next = { ...base, acknowledgedAt: at };
      break;
    case 'accept':
      next = { ...base, acceptedAt: at, acknowledgedAt: referral.acknowledgedAt ?? at };
      break;
    case 'decline':
      reason = command.reason;
      next = { ...base, declinedAt: at, reason, suggestedAgency: command.suggestedAgency };
      break;
    case 'record_contact':
      next = { ...base, contactAt: command.at, contactMethod: command.method };
      break;
    case 'close':
      reason = command.outcome;
      next = { ...base, closedAt: at, reason };
      break;
    case 'withdraw':
      reason = command.reason;
      next = { ...base, withdrawnAt: at, reason };
      break;
  }
  return {
    ok: true,
    referral: next,
    transition: { from: referral.state, to: rule.to, event: rule.event, actor, at, reason },
  };
}

/**
 * An escalation records which target passed; it moves nothing. Refused once the target is
 * met (the escalation service then drops its timer), so a late timer cannot cry wolf.
 */
function escalate(referral: Referral, target: EscalationTarget, actor: Actor, at: Date): Outcome {
  if (!(escalationTargets as readonly string[]).includes(target)) {
    return { ok: false, error: { code: 'invalid_argument', field: 'target', message: 'acknowledge or accept' } };
  }
  // Once the crisis line took it over, the original recipient's targets are moot.
  if (referral.takenOverBy) {
    return {
      ok: false,
      error: { code: 'failed_precondition', message: `the referral was taken over by ${referral.takenOverBy}` },
    };
  }
  if (!unmetIn[target].has(referral.state)) {
    return {
      ok: false,
      error: {
        code: 'failed_precondition',
        message: `the ${target} target is met: the referral is ${referral.state.replace('_', ' ')}`,
      },
    };
  }
  return {
    ok: true,
    referral: { ...referral, version: referral.version + 1, escalated: true },
    transition: {
      from: referral.state,
      to: referral.state,
      event: 'escalated',
      actor,
      at,
      reason: `${target}_overdue`,
    },
  };
}

/**
 * The crisis line takes an escalated referral over: it becomes the acting recipient (it
 * acknowledges, accepts, records contact, closes or declines with a suggestion), the original
 * recipient can act no more. Only while the referral is escalated and still waits on its
 * recipient (sent or acknowledged); once only, and never by the referral's own two agencies.
 * The state stays: the crisis line takes the next step itself.
 */
function takeOver(referral: Referral, actor: Actor, at: Date): Outcome {
  if (actor.agencyId === referral.toAgency || actor.agencyId === referral.fromAgency) {
    return {
      ok: false,
      error: { code: 'permission_denied', message: 'a party to the referral cannot take it over' },
    };
  }
  if (referral.takenOverBy) {
    return {
      ok: false,
      error: { code: 'failed_precondition', message: `the referral was already taken over by ${referral.takenOverBy}` },
    };
  }
  if (!referral.escalated) {
    return {
      ok: false,
      error: { code: 'failed_precondition', message: 'only an escalated referral can be taken over' },
    };
  }
  if (!takeOverStates.has(referral.state)) {
    return {
      ok: false,
      error: {
        code: 'failed_precondition',
        message: `cannot take over a referral that is ${referral.state.replace('_', ' ')}`,
      },
    };
  }
  return {
    ok: true,
    referral: { ...referral, version: referral.version + 1, takenOverBy: actor.agencyId, takenOverAt: at },
    transition: { from: referral.state, to: referral.state, event: 'taken_over', actor, at, reason: '' },
  };
}

/** A user id as the gateway writes them: a username ("london-intake") or an e-mail-like subject. */
const userIdPattern = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/;

export type AssignOutcome =
  | { ok: true; changed: true; referral: Referral; transition: Transition }
  | { ok: true; changed: false; referral: Referral }
  | { ok: false; error: LifecycleError };

/**
 * Who has a referral in the receiving agency (ADR 38). Any worker of that agency may claim an
 * open referral nobody has (assign it to themselves); a supervisor assigns it to anyone of the
 * agency, reassigns it, or unassigns it; the worker who has it may give it up (unassign).
 * Assigning to whoever has it already changes nothing. An assignment is a step of the
 * referral: a new version and a transition naming the worker; the state stays.
 */
export function assign(
  referral: Referral,
  assignee: string,
  actor: Actor,
  supervisor: boolean,
  at: Date,
): AssignOutcome {
  const deny = (message: string): AssignOutcome => ({ ok: false, error: { code: 'permission_denied', message } });
  // After a take-over the crisis line is the recipient: its workers have the referral.
  const recipient = actingRecipient(referral);
  if (actor.agencyId !== recipient) {
    return deny(`only the receiving agency (${recipient}) assigns this referral`);
  }
  if (assignee && !userIdPattern.test(assignee)) {
    return {
      ok: false,
      error: {
        code: 'invalid_argument',
        field: 'assigned_user',
        message: 'a user id such as "london-intake", or empty',
      },
    };
  }
  if (!openStates.has(referral.state)) {
    return {
      ok: false,
      error: {
        code: 'failed_precondition',
        message: `cannot assign a referral that is ${referral.state.replace('_', ' ')}`,
      },
    };
  }
  if (assignee === referral.assignedUser) return { ok: true, changed: false, referral };
  const current = referral.assignedUser;
  if (assignee === '') {
    if (!supervisor && current !== actor.userId)
      return deny("only a supervisor may unassign another worker's referral");
  } else if (assignee === actor.userId) {
    if (current && !supervisor) {
      return {
        ok: false,
        error: {
          code: 'failed_precondition',
          message: `this referral is already assigned to ${current}; a supervisor may reassign it`,
        },
      };
    }
  } else if (!supervisor) {
    return deny('only a supervisor may assign a referral to someone else; you may claim it yourself');
  }
  const next: Referral = {
    ...referral,
    version: referral.version + 1,
    assignedUser: assignee,
    assignedAt: assignee ? at : undefined,
  };
  return {
    ok: true,
    changed: true,
    referral: next,
    transition: {
      from: referral.state,
      to: referral.state,
      event: assignee ? 'assigned' : 'unassigned',
      actor,
      at,
      reason: assignee && assignee === actor.userId ? 'claimed' : '',
      assignedUser: assignee || current,
    },
  };
}
