import { isSupportAgencyKind } from '@passage/vocabulary';

/**
 * The agencies a declining agency may suggest instead: support agencies only — never a police
 * service or the Crown (a person's support referral is not a report to the justice system) —
 * and neither of the two agencies already on the referral.
 */
export function declineSuggestions<A extends { readonly id: string; readonly kind: string }>(
  agencies: Iterable<A>,
  referral: { readonly fromAgency: string; readonly toAgency: string },
): A[] {
  return [...agencies].filter(
    (a) => isSupportAgencyKind(a.kind) && a.id !== referral.toAgency && a.id !== referral.fromAgency,
  );
}
