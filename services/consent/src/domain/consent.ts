import type { Consent, DataCategory, Purpose, RecipientKind, Scope } from '@passage/consent-policy';

export const captureMethods = ['verbal', 'written', 'electronic', 'via_interpreter'] as const;
export type CaptureMethod = (typeof captureMethods)[number];

/** Who recorded something: ids and a role, never a name. */
export interface Actor {
  readonly agencyId: string;
  readonly userId: string;
  readonly role: string;
}

/**
 * A scope as recorded. One that lets police read which a police agency recorded is only
 * proposed (`proposedAt`, `proposedBy`) until a worker of a crisis line, victim services or
 * a coalition confirms it with the person (`confirmedAt`, `confirmedBy`): ADR 22.
 */
export interface ConsentScope extends Scope {
  readonly proposedBy?: Actor | undefined;
  readonly confirmedBy?: Actor | undefined;
  /**
   * Set on a scope an amendment added (ADR 36): when, by whom, in which receipt version (the
   * grant's scopes are version 1, and carry none of these) and how the person agreed.
   */
  readonly addedAt?: Date | undefined;
  readonly addedBy?: Actor | undefined;
  readonly addedInVersion?: number | undefined;
  readonly addedMethod?: CaptureMethod | undefined;
}

/** The receipt version a scope belongs to: 1 for the grant's own scopes. */
export function versionOf(scope: ConsentScope): number {
  return scope.addedInVersion ?? 1;
}

/** The consent's latest receipt version: 1 after the grant, one more per amendment. */
export function receiptVersion(consent: Pick<ConsentRecord, 'scopes'>): number {
  return Math.max(1, ...consent.scopes.map(versionOf));
}

/** A consent as recorded: the policy's view of it plus how and by whom it was captured. */
export interface ConsentRecord extends Consent {
  readonly scopes: readonly ConsentScope[];
  /** Pseudonymous subject reference (UUID). */
  readonly subjectRef: string;
  readonly capturedBy: Actor;
  readonly method: CaptureMethod;
  readonly interpreterLanguage: string;
  readonly language: string;
}

export interface ScopeInput {
  readonly recipientAgencyIds: readonly string[];
  readonly recipientKinds: readonly RecipientKind[];
  readonly purposes: readonly Purpose[];
  readonly categories: readonly DataCategory[];
  readonly doNotContact: boolean;
}

export interface GrantInput {
  readonly subjectRef?: string | undefined;
  readonly method: CaptureMethod;
  readonly interpreterLanguage: string;
  readonly language: string;
  readonly expiresAt: Date;
  readonly scopes: readonly ScopeInput[];
  /** Personal: stored encrypted under the subject's key. */
  readonly receiptName: string;
  readonly notes: string;
}

export type ChangeKind =
  'granted' | 'amended' | 'revoked' | 'scope_revoked' | 'scope_confirmed' | 'expired' | 'subject_erased';

/** One line of a subject's consent history. */
export interface Change {
  readonly change: ChangeKind;
  readonly consentId: string;
  readonly scopeIds: readonly string[];
  readonly actor: Actor;
  readonly at: Date;
  readonly reason: string;
}

export type { Consent, Scope };

const date = (value: unknown): Date | undefined =>
  value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;

/** A scope back from JSON (the scopes column, or an idempotent command's answer): its times as dates again. */
export function scopeFromJson(json: unknown): ConsentScope {
  const scope = json as ConsentScope & Record<string, unknown>;
  return {
    ...scope,
    revokedAt: date(scope['revokedAt']),
    proposedAt: date(scope['proposedAt']),
    confirmedAt: date(scope['confirmedAt']),
    addedAt: date(scope['addedAt']),
  };
}

/** A consent record back from JSON (an idempotent command's first answer): its times as dates again. */
export function consentFromJson(json: unknown): ConsentRecord {
  const record = json as ConsentRecord & Record<string, unknown>;
  return {
    ...record,
    grantedAt: date(record['grantedAt'])!,
    expiresAt: date(record['expiresAt'])!,
    revokedAt: date(record['revokedAt']),
    scopes: record.scopes.map(scopeFromJson),
  };
}
