/**
 * The network's shared words: kinds of agency and the services they offer. The directory
 * lists agencies in these terms, consent names recipients by them, referrals name needs by
 * them — one list, so the three cannot drift apart — and the references people read out and
 * type (references.ts). Pure: data and functions, no dependencies.
 */
export const agencyKinds = [
  'police',
  'crown',
  'crisis_line',
  'first_response',
  'coalition',
  'victim_services',
  'shelter',
  'health',
  'legal_clinic',
  'settlement',
] as const;
export type AgencyKind = (typeof agencyKinds)[number];

export const serviceTypes = [
  'shelter',
  'housing',
  'counselling',
  'crisis_support',
  'safety_planning',
  'legal',
  'medical',
  'immigration',
  'first_response',
  'interpretation',
  'court_support',
  'peer_support',
  'employment',
  'investigation',
  'prosecution_advice',
] as const;
export type ServiceType = (typeof serviceTypes)[number];

/** Services that serve the police rather than the person are never a person's need. */
const forPolice: ReadonlySet<ServiceType> = new Set(['investigation', 'prosecution_advice']);

/** What a person may need: every service but investigation and prosecution advice. */
export const supportNeeds: readonly ServiceType[] = serviceTypes.filter((s) => !forPolice.has(s));

/** Kinds that serve the justice system (police services, Crown prosecutors) rather than the person. */
const justiceKinds: ReadonlySet<AgencyKind> = new Set(['police', 'crown']);

/** Kinds a person can be referred on to for support: every kind but police and the Crown. */
export const supportAgencyKinds: readonly AgencyKind[] = agencyKinds.filter((k) => !justiceKinds.has(k));

export function isSupportAgencyKind(value: string): boolean {
  return (supportAgencyKinds as readonly string[]).includes(value);
}

export function isAgencyKind(value: string): value is AgencyKind {
  return (agencyKinds as readonly string[]).includes(value);
}

export function isSupportNeed(value: string): boolean {
  return (supportNeeds as readonly string[]).includes(value);
}

/** Why a receiving agency declines a referral. */
export const declineReasons = [
  'no_capacity',
  'outside_mandate',
  'language',
  'safety_concern',
  'duplicate',
  'other',
] as const;

/** How a referral ends once the agency has taken it. */
export const closeOutcomes = [
  'services_provided',
  'referred_elsewhere',
  'client_declined',
  'unable_to_contact',
  'safety_concern',
  'other',
] as const;

/** Why the sending agency takes a referral back. */
export const withdrawReasons = [
  'person_withdrew',
  'sent_in_error',
  'safety_concern',
  'consent_revoked',
  'other',
] as const;

/** How first contact with the person was made. */
export const contactMethods = ['phone', 'in_person', 'video', 'text', 'through_referrer'] as const;

export * from './references.ts';
