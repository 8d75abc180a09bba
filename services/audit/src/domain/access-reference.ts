import { PassageError } from '@passage/errors';

/**
 * What an auditor may type to find a person's access log, tried in order. Each kind names how
 * the log finds the people behind it (adapters/db/report-store.ts, subjectsFor). A short
 * human referral reference becomes one more entry here, with its pattern, and one more
 * lookup in the store (docs/adr/0042-loop-closure-and-drill-down.md).
 */
export const accessReferenceKinds = [
  // A referral id: the person the referral is about. A UUID that is no referral's id is taken
  // as the subject reference itself.
  { kind: 'referral', pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i },
  // A consent receipt's reference: the last 8 hex digits of the consent id, upper case.
  { kind: 'receipt', pattern: /^[0-9a-f]{8}$/i },
] as const;

export type AccessReferenceKind = (typeof accessReferenceKinds)[number]['kind'] | 'subject';

export interface AccessReference {
  readonly kind: (typeof accessReferenceKinds)[number]['kind'];
  /** Normalised: lower-case UUID, upper-case receipt reference. */
  readonly value: string;
}

export function parseAccessReference(raw: string, field = 'reference'): AccessReference {
  const value = raw.trim().replace(/\s+/g, '');
  const match = accessReferenceKinds.find((k) => k.pattern.test(value));
  if (!match) {
    throw PassageError.invalid([
      {
        field,
        description: 'a referral id or subject reference (a UUID), or a receipt reference (8 letters and digits)',
      },
    ]);
  }
  return { kind: match.kind, value: match.kind === 'receipt' ? value.toUpperCase() : value.toLowerCase() };
}
