import type { DataCategory, Purpose, RecipientKind } from './vocabulary.ts';

export interface Scope {
  readonly id: string;
  readonly recipientAgencyIds: readonly string[];
  readonly recipientKinds: readonly RecipientKind[];
  readonly purposes: readonly Purpose[];
  readonly categories: readonly DataCategory[];
  /** The person must not be contacted directly, only through the referring agency. */
  readonly doNotContact: boolean;
  /** Set when this scope alone was revoked. */
  readonly revokedAt?: Date | undefined;
  /**
   * Set when the scope was only proposed (police recorded a scope that lets police read,
   * ADR 22): it allows nothing before `confirmedAt`, and nothing at all while unconfirmed.
   */
  readonly proposedAt?: Date | undefined;
  /** When a worker of a non-police agency confirmed the proposed scope with the person. */
  readonly confirmedAt?: Date | undefined;
}

export interface Consent {
  readonly id: string;
  readonly grantedAt: Date;
  readonly expiresAt: Date;
  /** Set when the whole consent was revoked (or the subject erased). */
  readonly revokedAt?: Date | undefined;
  readonly scopes: readonly Scope[];
}

export interface Recipient {
  readonly agencyId: string;
  readonly kind: RecipientKind;
}

/** Which consent and scope allow a category: the evidence an access record cites. */
export interface Grant {
  readonly consentId: string;
  readonly scopeId: string;
}

export interface Evaluation {
  /** Allowed categories, each with every grant that allows it; empty means nothing may be read. */
  readonly allowed: ReadonlyMap<DataCategory, readonly Grant[]>;
  /** True if any grant's scope says the person must not be contacted directly. */
  readonly doNotContact: boolean;
}

const nothing: Evaluation = { allowed: new Map(), doNotContact: false };

function activeAt(consent: Consent, scope: Scope, at: Date): boolean {
  const t = at.getTime();
  const confirmed =
    scope.proposedAt === undefined || (scope.confirmedAt !== undefined && scope.confirmedAt.getTime() <= t);
  return (
    confirmed &&
    consent.grantedAt.getTime() <= t &&
    t < consent.expiresAt.getTime() &&
    (consent.revokedAt === undefined || t < consent.revokedAt.getTime()) &&
    (scope.revokedAt === undefined || t < scope.revokedAt.getTime())
  );
}

function names(scope: Scope, recipient: Recipient): boolean {
  return scope.recipientAgencyIds.includes(recipient.agencyId) || scope.recipientKinds.includes(recipient.kind);
}

/**
 * What `recipient` may read of a subject, for `purpose`, at `at`: default deny. Only an
 * active scope (consent granted, not expired, not revoked; scope not revoked; if it was
 * proposed, confirmed) that names
 * the recipient (by agency id or by kind) and the purpose allows its categories.
 * Police get nothing unless the purpose is `investigation` and a scope names police
 * explicitly; a referral is never a way to reach police.
 */
export function evaluate(consents: readonly Consent[], recipient: Recipient, purpose: Purpose, at: Date): Evaluation {
  if (recipient.kind === 'police' && purpose !== 'investigation') return nothing;
  const allowed = new Map<DataCategory, Grant[]>();
  let doNotContact = false;
  for (const consent of consents) {
    for (const scope of consent.scopes) {
      if (!activeAt(consent, scope, at) || !scope.purposes.includes(purpose) || !names(scope, recipient)) continue;
      doNotContact ||= scope.doNotContact;
      for (const category of scope.categories) {
        const grants = allowed.get(category) ?? [];
        grants.push({ consentId: consent.id, scopeId: scope.id });
        allowed.set(category, grants);
      }
    }
  }
  return { allowed, doNotContact };
}

/** Does any active scope cover the recipient for the purpose at all (e.g. may a referral be sent)? */
export function covers(consents: readonly Consent[], recipient: Recipient, purpose: Purpose, at: Date): boolean {
  return evaluate(consents, recipient, purpose, at).allowed.size > 0;
}

/** The kinds of agency whose workers confirm, with the person, a scope police proposed (ADR 22). */
export const confirmingKinds: readonly RecipientKind[] = [
  'crisis_line',
  'first_response',
  'victim_services',
  'coalition',
];

/**
 * Does the scope let police read: purpose `investigation`, naming the police kind or an
 * agency the directory lists as police (`kindOf`)? Such a scope recorded by police is only
 * proposed until a worker of a confirming kind confirms it with the person.
 */
export function letsPoliceRead(
  scope: Pick<Scope, 'purposes' | 'recipientKinds' | 'recipientAgencyIds'>,
  kindOf: (agencyId: string) => RecipientKind | undefined,
): boolean {
  return (
    scope.purposes.includes('investigation') &&
    (scope.recipientKinds.includes('police') || scope.recipientAgencyIds.some((id) => kindOf(id) === 'police'))
  );
}
