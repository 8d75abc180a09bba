import type { User } from '../api/edge.ts';

// Which screens a person sees follows from their roles; the gateway and the services
// enforce the same and more (agency isolation, consent), so this only keeps menus honest.

export type Screen = 'handoff' | 'inbox' | 'outbox' | 'escalations' | 'oversight' | 'directory';

const screensFor: Readonly<Record<string, readonly Screen[]>> = {
  officer: ['handoff', 'outbox', 'escalations'],
  crisis_counsellor: ['handoff', 'inbox', 'outbox', 'escalations'],
  intake_worker: ['inbox', 'outbox', 'escalations'],
  supervisor: ['inbox', 'outbox', 'escalations', 'oversight'],
  auditor: ['oversight'],
  admin: ['oversight', 'directory'],
};

const order: readonly Screen[] = ['handoff', 'inbox', 'outbox', 'escalations', 'oversight', 'directory'];

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
