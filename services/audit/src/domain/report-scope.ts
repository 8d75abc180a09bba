/**
 * Who may read what of the audit log. Auditors and administrators see everything; an
 * agency's supervisor sees the reports of its own agency; nobody else sees anything.
 */
export interface Reader {
  readonly agencyId: string;
  readonly roles: readonly string[];
}

export type ReportScope = { readonly kind: 'all' } | { readonly kind: 'agency'; readonly agencyId: string };

const overseers = ['auditor', 'admin'];

export function canReadLog(reader: Reader): boolean {
  return reader.roles.some((role) => overseers.includes(role));
}

/** The agency a scope is limited to, or '' for all. */
export function scopedAgency(scope: ReportScope): string {
  return scope.kind === 'agency' ? scope.agencyId : '';
}

/** The part of the reports a reader may see, or undefined for none. */
export function reportScope(reader: Reader): ReportScope | undefined {
  if (canReadLog(reader)) return { kind: 'all' };
  if (reader.roles.includes('supervisor')) return { kind: 'agency', agencyId: reader.agencyId };
  return undefined;
}
