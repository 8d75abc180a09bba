import { PassageError } from '@passage/errors';
import { clientIdPrefix } from './integration-clients.ts';

/**
 * Who may administer whom (ADR 30). Pure: no I/O. The ministry's administrator (role admin,
 * at any agency) manages everyone; an agency's supervisor manages only its own agency's
 * people, and grants no role above its own.
 */

/** The roles a person may hold; `system` is a service's, never a person's. */
export const personRoles = ['officer', 'crisis_counsellor', 'intake_worker', 'supervisor', 'auditor', 'admin'] as const;
export type PersonRole = (typeof personRoles)[number];

/**
 * The order of the roles, for "no role above one's own": front-line work (1), an agency's
 * supervisor (2), the ministry's auditor (3) and administrator (4). The auditor is above a
 * supervisor: it reads every agency's audit trail, which no agency grants.
 */
export const roleRank: Readonly<Record<PersonRole, number>> = {
  officer: 1,
  crisis_counsellor: 1,
  intake_worker: 1,
  supervisor: 2,
  auditor: 3,
  admin: 4,
};

export interface Actor {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
}

export interface Target {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
  readonly disabled: boolean;
}

export const isPersonRole = (role: string): role is PersonRole => (personRoles as readonly string[]).includes(role);

/** The highest rank among the roles (0 for none). */
export function rankOf(roles: readonly string[]): number {
  return Math.max(0, ...roles.filter(isPersonRole).map((role) => roleRank[role]));
}

export const isAdmin = (actor: { readonly roles: readonly string[] }): boolean => actor.roles.includes('admin');

/** Whether the actor may administer people at all. */
export function administers(actor: Actor): boolean {
  return isAdmin(actor) || actor.roles.includes('supervisor');
}

/** The agencies whose people the actor may see: all (undefined), or one. */
export function visibleAgency(actor: Actor): string | undefined {
  return isAdmin(actor) ? undefined : actor.agencyId;
}

/** Refuses an actor who may not touch this agency's people (a supervisor of another agency). */
export function checkAgency(actor: Actor, agencyId: string, field = 'agency_id'): void {
  if (!administers(actor))
    throw new PassageError('permission_denied', 'administering people needs admin or supervisor');
  if (isAdmin(actor) || agencyId === actor.agencyId) return;
  throw new PassageError('permission_denied', `a supervisor manages only the people of their own agency (${field})`, [
    { field, description: `not your agency: you manage the people of ${actor.agencyId} only` },
  ]);
}

/** Refuses roles the actor may not grant: above the actor's own rank (a supervisor: no auditor or admin). */
export function checkGrant(actor: Actor, roles: readonly string[], field = 'roles'): void {
  const unknown = roles.filter((role) => !isPersonRole(role));
  if (unknown.length > 0)
    throw PassageError.invalid([{ field, description: `not a role a person may hold: ${unknown.join(', ')}` }]);
  if (isAdmin(actor)) return;
  const own = rankOf(actor.roles);
  const above = roles.filter((role) => roleRank[role as PersonRole] > own);
  if (above.length > 0)
    throw new PassageError('permission_denied', `you cannot grant a role above your own: ${above.join(', ')}`, [
      { field, description: `above your own role: ${above.join(', ')}` },
    ]);
}

/** Refuses an actor who may not administer this person: another agency's, or someone ranked above them. */
export function checkManages(actor: Actor, target: Target): void {
  checkAgency(actor, target.agencyId, 'user_id');
  if (isAdmin(actor)) return;
  if (rankOf(target.roles) > rankOf(actor.roles))
    throw new PassageError('permission_denied', 'this person holds a role above yours', [
      { field: 'user_id', description: 'holds a role above yours: ask the ministry administrator' },
    ]);
}

/**
 * Refuses taking over an account (resetting its password, linking or unlinking its identity
 * provider) unless the actor is the administrator or ranks strictly above the person: a
 * supervisor cannot take over a peer supervisor.
 */
export function checkTakesOver(actor: Actor, target: Target): void {
  checkManages(actor, target);
  if (isAdmin(actor)) return;
  if (rankOf(target.roles) >= rankOf(actor.roles))
    throw new PassageError('permission_denied', 'this person holds a role as high as yours', [
      { field: 'user_id', description: 'holds a role as high as yours: ask the ministry administrator' },
    ]);
}

/** Who the active administrators are, apart from the target. */
export type OtherActiveAdmins = number;

/** Disabling: never oneself, never the last active administrator. */
export function checkDisable(actor: Actor, target: Target, otherActiveAdmins: OtherActiveAdmins): void {
  checkManages(actor, target);
  if (target.userId === actor.userId)
    throw new PassageError('failed_precondition', 'you cannot disable yourself', [
      { field: 'user_id', description: 'is you: another administrator must do this' },
    ]);
  if (!target.disabled && isAdmin(target) && otherActiveAdmins === 0)
    throw new PassageError('failed_precondition', 'this is the last active administrator: it cannot be disabled', [
      { field: 'user_id', description: 'the last active administrator: make another administrator first' },
    ]);
}

/** Changing roles: within what the actor grants, and never taking admin from the last active administrator. */
export function checkRoleChange(
  actor: Actor,
  target: Target,
  roles: readonly string[],
  otherActiveAdmins: OtherActiveAdmins,
): void {
  checkManages(actor, target);
  checkGrant(actor, roles);
  if (roles.length === 0) throw PassageError.invalid([{ field: 'roles', description: 'a person needs a role' }]);
  if (!target.disabled && isAdmin(target) && !roles.includes('admin') && otherActiveAdmins === 0)
    throw new PassageError('failed_precondition', 'this is the last active administrator: admin cannot be taken away', [
      { field: 'roles', description: 'keeps admin: this is the last active administrator' },
    ]);
}

/**
 * User ids starting `scim-` are SCIM clients' (ADR 30), and `client-` integration clients' (ADR
 * 45): the actors named in the audit log. No person may have one, so no person's actions can
 * pass for a client's or the other way round.
 */
export const reservedUserIdPrefixes: Readonly<Record<string, string>> = {
  'scim-': 'SCIM clients',
  [clientIdPrefix]: 'integration clients',
};

export function userIdViolation(userId: string, field = 'user_id'): { field: string; description: string } | undefined {
  const prefix = Object.keys(reservedUserIdPrefixes).find((reserved) => userId.startsWith(reserved));
  return prefix
    ? { field, description: `"${prefix}" starts the ids of ${reservedUserIdPrefixes[prefix]}: choose another user id` }
    : undefined;
}

/** Creating: within the actor's agency (a supervisor) and the roles the actor grants. */
export function checkCreate(actor: Actor, agencyId: string, roles: readonly string[]): void {
  checkAgency(actor, agencyId);
  checkGrant(actor, roles);
}

/** A password a person chooses: 12 to 200 characters (NIST SP 800-63B: length, no composition rules). */
export function passwordViolation(password: string, field: string): { field: string; description: string } | undefined {
  const length = Array.from(password).length;
  if (length < 12 || length > 200) return { field, description: 'a password of 12 to 200 characters' };
  return undefined;
}

/** How long a set-password link works: 72 hours. */
export const linkLifetimeMs = 72 * 3_600_000;

/** How long a temporary password works (to sign in and choose one's own): as long as a link. */
export const temporaryPasswordLifetimeMs = linkLifetimeMs;
