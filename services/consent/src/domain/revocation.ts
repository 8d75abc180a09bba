import type { ConsentRecord } from './consent.ts';
import type { Checked } from './validate-grant.ts';

export interface RevocationPlan {
  /** Scopes this revocation ends now; empty when all of them had ended already. */
  readonly scopeIds: readonly string[];
  /** Whether the whole consent is revoked by it. */
  readonly whole: boolean;
}

/**
 * What a revocation changes: the whole consent, or the named scopes. Naming a scope the
 * consent does not have is an error; revoking what is already revoked plans nothing.
 */
export function planRevocation(
  consent: ConsentRecord,
  request: { all: boolean; scopeIds: readonly string[] },
): Checked<RevocationPlan> {
  if (!request.all && request.scopeIds.length === 0) {
    return { ok: false, violations: [{ field: 'scope_ids', description: 'name the scopes to revoke, or set all' }] };
  }
  const unknown = request.scopeIds
    .map((id, i) => ({ id, i }))
    .filter(({ id }) => !consent.scopes.some((s) => s.id === id));
  if (unknown.length > 0) {
    return {
      ok: false,
      violations: unknown.map(({ id, i }) => ({
        field: `scope_ids[${i}]`,
        description: `consent ${consent.id} has no scope ${id}`,
      })),
    };
  }
  if (consent.revokedAt) return { ok: true, value: { scopeIds: [], whole: false } };
  const live = consent.scopes.filter((s) => !s.revokedAt);
  const targeted = request.all ? live : live.filter((s) => request.scopeIds.includes(s.id));
  const whole = request.all || targeted.length === live.length;
  return { ok: true, value: { scopeIds: targeted.map((s) => s.id), whole: whole && targeted.length > 0 } };
}

/**
 * Who may record a withdrawal of this consent, and of what (ADR 36):
 * - `recorder`: the agency that recorded it (or an administrator): everything;
 * - `covered`: an agency a scope names, by id or by its kind (`callerKind`, from the
 *   directory), a withdrawn scope included — the receipt tells the person to tell "any agency
 *   above": the person's withdrawal of the whole consent (`all`), or of the scopes naming it
 *   (`ownScopeIds`; it is shown no other scope);
 * - `none`: any other agency, refused.
 */
export function withdrawalRights(
  consent: ConsentRecord,
  caller: { agencyId: string; kind: string | undefined; admin: boolean },
): { who: 'recorder' | 'covered' | 'none'; ownScopeIds: readonly string[] } {
  const names = (s: ConsentRecord['scopes'][number]) =>
    s.recipientAgencyIds.includes(caller.agencyId) ||
    (caller.kind !== undefined && (s.recipientKinds as readonly string[]).includes(caller.kind));
  const ownScopeIds = consent.scopes.filter(names).map((s) => s.id);
  if (consent.capturedBy.agencyId === caller.agencyId || caller.admin) return { who: 'recorder', ownScopeIds };
  return { who: ownScopeIds.length > 0 ? 'covered' : 'none', ownScopeIds };
}
