/**
 * `system`: an agency's own system (an integration client, ADR 45), acting as a worker of that
 * agency — never a supervisor, auditor or administrator. `service`: another Passage service
 * acting on its own (the escalation service), never a person and never an agency's system.
 */
export const roles = [
  'officer',
  'crisis_counsellor',
  'intake_worker',
  'supervisor',
  'auditor',
  'admin',
  'system',
  'service',
] as const;
export type Role = (typeof roles)[number];

/**
 * The roles that hand people on and work referrals, wherever a rule names front-line work: the
 * people who do it, and an agency's own system (ADR 45), which the network treats exactly as a
 * worker of its agency.
 */
export const workerRoles: readonly Role[] = ['officer', 'crisis_counsellor', 'intake_worker', 'supervisor', 'system'];

/** Who is calling: verified from a signed token, never taken from a request body. */
export interface Caller {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly Role[];
}

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}
