import { agencyKinds, isAgencyKind, type AgencyKind } from '@passage/vocabulary';

/** The closed vocabularies of consent (DESIGN.md, "Consent"). */

export const purposes = ['referral', 'safety_planning', 'investigation', 'statistics'] as const;
export type Purpose = (typeof purposes)[number];

export const dataCategories = [
  'identity',
  'contact',
  'safe_contact',
  'location',
  'situation',
  'needs',
  'health',
  'immigration',
  'dependants',
] as const;
export type DataCategory = (typeof dataCategories)[number];

/** Agency kinds a scope may name: the network's one list (@passage/vocabulary). */
export const recipientKinds = agencyKinds;
export type RecipientKind = AgencyKind;

export function isPurpose(value: string): value is Purpose {
  return (purposes as readonly string[]).includes(value);
}

export function isDataCategory(value: string): value is DataCategory {
  return (dataCategories as readonly string[]).includes(value);
}

export const isRecipientKind: (value: string) => value is RecipientKind = isAgencyKind;
