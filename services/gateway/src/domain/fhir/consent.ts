import { organizationIdOf } from '@passage/vocabulary/directory-ids';
import {
  coded,
  hl7,
  passageSystems as systems,
  type Consent,
  type ConsentActor,
  type ConsentProvision,
} from './resources.ts';

/**
 * A person's consent as a FHIR Consent (docs/adr/0044-fhir-r4-export.md): a privacy consent
 * whose base rule denies, with one permitting provision per scope in force or once in force —
 * who may read (agencies, or every agency of a kind), for what purposes, which data categories —
 * and, for a scope with a do-not-contact wish, a nested provision denying direct contact,
 * coded contacting-subject-prohibited as the SDOH Clinical Care IG codes it. Pure.
 */

export interface ConsentScopeFacts {
  readonly id: string;
  readonly recipientAgencyIds: readonly string[];
  readonly recipientKinds: readonly string[];
  readonly purposes: readonly string[];
  readonly categories: readonly string[];
  readonly doNotContact: boolean;
  readonly revokedAt?: Date | undefined;
  /** Set on a scope a police agency recorded that lets police read: in force only once confirmed (ADR 22). */
  readonly proposedAt?: Date | undefined;
  readonly confirmedAt?: Date | undefined;
  /** Set on a scope an amendment added (ADR 36). */
  readonly addedAt?: Date | undefined;
}

export interface ConsentFacts {
  readonly id: string;
  readonly subjectRef: string;
  /** The agency that recorded it (its custodian). */
  readonly recordedBy: string;
  readonly grantedAt: Date;
  readonly expiresAt?: Date | undefined;
  readonly revokedAt?: Date | undefined;
  readonly scopes: readonly ConsentScopeFacts[];
}

/** The reference on the receipt the person holds: the last eight hexadecimal digits of the id, in capitals. */
export const receiptReference = (consentId: string): string => consentId.replace(/-/g, '').slice(-8).toUpperCase();

const recipient = coded(hl7.participationType, 'IRCP', 'information recipient');

function actors(scope: ConsentScopeFacts): ConsentActor[] {
  return [
    ...scope.recipientAgencyIds.map((agencyId) => ({
      role: recipient,
      reference: { reference: `Organization/${organizationIdOf(agencyId)}` },
    })),
    // A kind names every agency of it the directory lists, now and later: a group, named by the kind.
    ...scope.recipientKinds.map((kind) => ({
      role: recipient,
      reference: { type: 'Group', identifier: { system: systems.agencyKind, value: kind } },
    })),
  ];
}

/** Whether the consent allows anything at `now`: neither revoked nor past its expiry. */
export function consentIsActive(consent: ConsentFacts, now: Date): boolean {
  return !consent.revokedAt && (!consent.expiresAt || consent.expiresAt.getTime() > now.getTime());
}

/**
 * The scope as a permit. A scope only proposed (police recording a scope that lets police read,
 * not yet confirmed with the person) allows nothing and is left out; a revoked one keeps its
 * provision with the period ended at its revocation.
 */
function scopeProvision(scope: ConsentScopeFacts, grantedAt: Date): ConsentProvision | undefined {
  if (scope.proposedAt && !scope.confirmedAt) return undefined;
  const start = scope.confirmedAt ?? scope.addedAt ?? grantedAt;
  return {
    id: scope.id,
    type: 'permit',
    period: { start: start.toISOString(), end: scope.revokedAt?.toISOString() },
    actor: actors(scope),
    purpose: scope.purposes.map((purpose) => ({ system: systems.purpose, code: purpose })),
    code: scope.categories.map((category) => coded(systems.dataCategory, category)),
    ...(scope.doNotContact
      ? {
          provision: [
            {
              type: 'deny' as const,
              action: [coded(hl7.sdohcc, 'contacting-subject-prohibited', 'Contacting Subject Prohibited')],
            },
          ],
        }
      : {}),
  };
}

export function consentResource(consent: ConsentFacts, now: Date): Consent {
  const end = consent.revokedAt ?? consent.expiresAt;
  return {
    resourceType: 'Consent',
    id: consent.id,
    identifier: [{ system: systems.receiptReference, value: receiptReference(consent.id) }],
    status: consentIsActive(consent, now) ? 'active' : 'inactive',
    scope: coded(hl7.consentScope, 'patient-privacy', 'Privacy Consent'),
    category: [coded(hl7.loinc, '59284-0', 'Patient Consent')],
    patient: { type: 'Patient', identifier: { system: systems.subject, value: consent.subjectRef } },
    dateTime: consent.grantedAt.toISOString(),
    organization: [{ reference: `Organization/${organizationIdOf(consent.recordedBy)}` }],
    policyRule: coded(hl7.actCode, 'OPTIN', 'opt-in'),
    provision: {
      type: 'deny',
      period: { start: consent.grantedAt.toISOString(), end: end?.toISOString() },
      provision: consent.scopes
        .map((scope) => scopeProvision(scope, consent.grantedAt))
        .filter((p): p is ConsentProvision => p !== undefined),
    },
  };
}
