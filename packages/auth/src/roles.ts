/** `system`: another Passage service acting on its own (the escalation service), never a person. */
export const roles = [
  'officer',
  'crisis_counsellor',
  'intake_worker',
  'supervisor',
  'auditor',
  'admin',
  'system',
] as const;
export type Role = (typeof roles)[number];

/** Who is calling: verified from a signed token, never taken from a request body. */
export interface Caller {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly Role[];
}

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}
