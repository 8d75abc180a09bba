import type { DataCategory } from '@passage/consent-policy';

export const states = ['sent', 'acknowledged', 'accepted', 'in_contact', 'closed', 'declined', 'withdrawn'] as const;
export type State = (typeof states)[number];

/** States in which a referral is still open (it may yet be withdrawn). */
export const openStates: ReadonlySet<State> = new Set(['sent', 'acknowledged', 'accepted', 'in_contact']);

export type Priority = 'urgent' | 'standard';

/** The lifecycle's reasons, outcomes and contact methods: the network's one list (@passage/vocabulary). */
export { closeOutcomes, contactMethods, declineReasons, withdrawReasons } from '@passage/vocabulary';

/** Support needs a referral may name: the network's one list (@passage/vocabulary). */
export { supportNeeds } from '@passage/vocabulary';

/** Who did something: ids and a role, never a name. */
export interface Actor {
  readonly agencyId: string;
  readonly userId: string;
  readonly role: string;
}

/** A consent scope that allowed the referral to be sent (kept to react to revocations). */
export interface ConsentGrant {
  readonly consentId: string;
  readonly scopeId: string;
}

export interface Referral {
  readonly id: string;
  readonly subjectRef: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: Priority;
  readonly state: State;
  readonly version: number;
  readonly needs: readonly string[];
  readonly language: string;
  readonly interpreterNeeded: boolean;
  readonly doNotContact: boolean;
  /** The packet's categories: exactly those consent allowed the recipient at sending. */
  readonly categories: readonly DataCategory[];
  readonly grants: readonly ConsentGrant[];
  readonly previousReferralId: string;
  readonly sentBy: Actor;
  readonly sentAt: Date;
  readonly acknowledgedAt?: Date | undefined;
  readonly acceptedAt?: Date | undefined;
  readonly contactAt?: Date | undefined;
  readonly closedAt?: Date | undefined;
  readonly declinedAt?: Date | undefined;
  readonly withdrawnAt?: Date | undefined;
  readonly acknowledgeDueAt: Date;
  readonly acceptDueAt: Date;
  /** Decline reason, withdrawal reason or close outcome: a code, never free text. */
  readonly reason: string;
  readonly suggestedAgency: string;
  readonly contactMethod: string;
  readonly escalated: boolean;
  /** The short reference people read out and search by ("R-7K3M-Q9", reference.ts); given at sending. */
  readonly reference: string;
  /** The worker of the receiving agency who has the referral (a user id); '' when nobody has. */
  readonly assignedUser: string;
  readonly assignedAt?: Date | undefined;
  /**
   * The crisis line that took the escalated referral over ('' when none did): the acting
   * recipient since `takenOverAt`. `toAgency` stays the original recipient.
   */
  readonly takenOverBy: string;
  readonly takenOverAt?: Date | undefined;
  /** After hours (ADR 41): the other referral of a linked pair (crisis line now, agency at opening), or ''. */
  readonly linkedReferralId?: string | undefined;
  /** The agency the linked referral went to, or ''. */
  readonly linkedAgency?: string | undefined;
  /** Set when the targets count from the recipient's next opening rather than from sentAt. */
  readonly clockStartsAt?: Date | undefined;
}

/** The agency that acts as the recipient now: the crisis line once it took the referral over. */
export function actingRecipient(referral: Pick<Referral, 'toAgency' | 'takenOverBy'>): string {
  return referral.takenOverBy || referral.toAgency;
}

export interface Transition {
  readonly from: State | '';
  readonly to: State;
  readonly event: ReferralEvent;
  readonly actor: Actor;
  readonly at: Date;
  readonly reason: string;
  /** On "assigned": the worker it was assigned to; on "unassigned": the worker it was taken from. */
  readonly assignedUser?: string | undefined;
}

export type ReferralEvent =
  | 'sent'
  | 'acknowledged'
  | 'accepted'
  | 'declined'
  | 'contact_recorded'
  | 'closed'
  | 'withdrawn'
  | 'escalated'
  | 'taken_over'
  | 'assigned'
  | 'unassigned';
