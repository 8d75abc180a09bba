import type { User } from '../api/edge.ts';

// Which screens a person sees follows from their roles; the gateway and the services
// enforce the same and more (agency isolation, consent), so this only keeps menus honest.

export type Screen = 'handoff' | 'inbox' | 'outbox' | 'search' | 'escalations' | 'oversight' | 'people' | 'directory';

const screensFor: Readonly<Record<string, readonly Screen[]>> = {
  officer: ['handoff', 'outbox', 'search', 'escalations'],
  crisis_counsellor: ['handoff', 'inbox', 'outbox', 'search', 'escalations'],
  intake_worker: ['inbox', 'outbox', 'search', 'escalations'],
  supervisor: ['inbox', 'outbox', 'search', 'escalations', 'oversight', 'people'],
  auditor: ['oversight'],
  admin: ['oversight', 'people', 'directory'],
};

const order: readonly Screen[] = [
  'handoff',
  'inbox',
  'outbox',
  'search',
  'escalations',
  'oversight',
  'people',
  'directory',
];

export function screens(user: Pick<User, 'roles'>): Screen[] {
  const allowed = new Set(user.roles.flatMap((role) => screensFor[role] ?? []));
  return order.filter((screen) => allowed.has(screen));
}

/** Where a person lands after signing in: their first job. */
export function home(user: Pick<User, 'roles'>): string {
  const first = screens(user)[0];
  return first ? `/${first}` : '/';
}

export function may(user: Pick<User, 'roles'>, screen: Screen): boolean {
  return screens(user).includes(screen);
}

/** The roles a person may hold, in the order the people screen offers them. */
export const personRoles = ['officer', 'crisis_counsellor', 'intake_worker', 'supervisor', 'auditor', 'admin'] as const;
export type PersonRole = (typeof personRoles)[number];

/**
 * The gateway's order of the roles (ADR 30), mirrored so the console offers only what the
 * signed-in person may grant: front-line work, an agency's supervisor, the ministry's
 * auditor and administrator. The gateway refuses anything else anyway.
 */
const rank: Readonly<Record<PersonRole, number>> = {
  officer: 1,
  crisis_counsellor: 1,
  intake_worker: 1,
  supervisor: 2,
  auditor: 3,
  admin: 4,
};

const isPersonRole = (role: string): role is PersonRole => (personRoles as readonly string[]).includes(role);
const rankOf = (roles: readonly string[]): number =>
  Math.max(0, ...roles.filter(isPersonRole).map((role) => rank[role]));
const isAdmin = (user: Pick<User, 'roles'>): boolean => user.roles.includes('admin');

/** The roles this person may grant: an administrator any; a supervisor none above their own. */
export function grantableRoles(user: Pick<User, 'roles'>): PersonRole[] {
  if (isAdmin(user)) return [...personRoles];
  if (!user.roles.includes('supervisor')) return [];
  const own = rankOf(user.roles);
  return personRoles.filter((role) => rank[role] <= own);
}

/** Whether this person may administer the other: an administrator anyone; a supervisor their agency's, none above them. */
export function manages(
  user: Pick<User, 'roles' | 'agencyId'>,
  person: { readonly agencyId: string; readonly roles: readonly string[] },
): boolean {
  if (isAdmin(user)) return true;
  if (!user.roles.includes('supervisor')) return false;
  return person.agencyId === user.agencyId && rankOf(person.roles) <= rankOf(user.roles);
}

/** Whether this person chooses the agency of the people they add and list (an administrator), or has only their own. */
export const choosesAgency = (user: Pick<User, 'roles'>): boolean => isAdmin(user);
