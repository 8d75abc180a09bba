import { PassageError } from '@passage/errors';
import { formatReference, parseReference } from '@passage/vocabulary';

/**
 * What an auditor may type to find a person's access log, tried in order. Each kind names how
 * the log finds the people behind it (adapters/db/report-store.ts, subjectsFor).
 */
export const accessReferenceKinds = [
  // A referral id: the person the referral is about. A UUID that is no referral's id is taken
  // as the subject reference itself.
  { kind: 'referral', pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i },
  // A consent receipt's reference: the last 8 hex digits of the consent id, upper case.
  { kind: 'receipt', pattern: /^[0-9a-f]{8}$/i },
] as const;

/** A referral's short reference ("R-7K3M-Q9", as people read it out): its referral's person. */
type ShortReferenceKind = 'referral_reference';

export type AccessReferenceKind = (typeof accessReferenceKinds)[number]['kind'] | ShortReferenceKind | 'subject';

export interface AccessReference {
  readonly kind: (typeof accessReferenceKinds)[number]['kind'] | ShortReferenceKind;
  /** Normalised: lower-case UUID, upper-case receipt reference, a short reference as written (R-7K3M-Q9). */
  readonly value: string;
}

export function parseAccessReference(raw: string, field = 'reference'): AccessReference {
  const value = raw.trim().replace(/\s+/g, '');
  const match = accessReferenceKinds.find((k) => k.pattern.test(value));
  if (match) return { kind: match.kind, value: match.kind === 'receipt' ? value.toUpperCase() : value.toLowerCase() };
  // Typed as people type it: any case, spaces or dashes, an O for a 0 (the same parser as search).
  const number = parseReference(raw);
  if (number !== undefined) return { kind: 'referral_reference', value: formatReference(number) };
  throw PassageError.invalid([
    {
      field,
      description:
        'a referral reference (R-7K3M-Q9), a receipt reference (8 letters and digits), or a referral id or subject reference (a UUID)',
    },
  ]);
}
