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

/** Agency kinds a scope may name; the same set the directory knows. */
export const recipientKinds = [
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
export type RecipientKind = (typeof recipientKinds)[number];

export function isPurpose(value: string): value is Purpose {
  return (purposes as readonly string[]).includes(value);
}

export function isDataCategory(value: string): value is DataCategory {
  return (dataCategories as readonly string[]).includes(value);
}

export function isRecipientKind(value: string): value is RecipientKind {
  return (recipientKinds as readonly string[]).includes(value);
}
