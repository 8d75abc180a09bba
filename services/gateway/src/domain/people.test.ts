import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PassageError } from '@passage/errors';
import {
  checkCreate,
  checkDisable,
  checkGrant,
  checkManages,
  checkRoleChange,
  checkTakesOver,
  personRoles,
  rankOf,
  roleRank,
  passwordViolation,
  type Actor,
  type Target,
} from './people.ts';

const admin: Actor = { userId: 'admin', agencyId: 'passage-oversight', roles: ['admin'] };
const londonSupervisor: Actor = {
  userId: 'london-supervisor',
  agencyId: 'london-coalition',
  roles: ['supervisor', 'intake_worker'],
};
const person = (over: Partial<Target> = {}): Target => ({
  userId: 'someone',
  agencyId: 'london-coalition',
  roles: ['intake_worker'],
  disabled: false,
  ...over,
});

function refusal(run: () => void): PassageError {
  try {
    run();
  } catch (error) {
    if (error instanceof PassageError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('people administration rules', () => {
  it('lets the ministry administrator manage anyone, at any agency, with any role', () => {
    expect(() => checkCreate(admin, 'windsor-essex-ahtag', ['admin', 'auditor'])).not.toThrow();
    expect(() => checkManages(admin, person({ agencyId: 'opp', roles: ['admin'] }))).not.toThrow();
  });

  it('keeps a supervisor to their own agency', () => {
    const error = refusal(() => checkCreate(londonSupervisor, 'windsor-essex-ahtag', ['intake_worker']));
    expect(error.code).toBe('permission_denied');
    expect(error.violations.map((v) => v.field)).toEqual(['agency_id']);
    expect(refusal(() => checkManages(londonSupervisor, person({ agencyId: 'pact-ottawa' }))).code).toBe(
      'permission_denied',
    );
  });

  it('lets a supervisor take over (reset, link) only people ranked strictly below them', () => {
    expect(() => checkTakesOver(londonSupervisor, person())).not.toThrow();
    const peer = refusal(() => checkTakesOver(londonSupervisor, person({ roles: ['supervisor'] })));
    expect(peer.code).toBe('permission_denied');
    expect(peer.violations.map((v) => v.field)).toEqual(['user_id']);
    expect(() => checkTakesOver(admin, person({ roles: ['admin'] }))).not.toThrow();
  });

  it('refuses a supervisor granting a role above their own, naming roles', () => {
    for (const role of ['auditor', 'admin']) {
      const error = refusal(() => checkGrant(londonSupervisor, ['intake_worker', role]));
      expect(error.code).toBe('permission_denied');
      expect(error.violations[0]?.field).toBe('roles');
    }
    expect(() => checkGrant(londonSupervisor, ['supervisor', 'officer'])).not.toThrow();
  });

  it('refuses disabling oneself and the last active administrator', () => {
    const self = refusal(() => checkDisable(admin, { ...admin, disabled: false }, 3));
    expect(self.code).toBe('failed_precondition');
    expect(self.violations[0]?.field).toBe('user_id');
    const other: Target = { userId: 'admin-2', agencyId: 'passage-oversight', roles: ['admin'], disabled: false };
    const last = refusal(() => checkDisable(admin, other, 0));
    expect(last.code).toBe('failed_precondition');
    expect(last.message).toContain('last active administrator');
    expect(() => checkDisable(admin, other, 1)).not.toThrow();
  });

  it('refuses taking admin from the last active administrator', () => {
    const other: Target = { userId: 'admin-2', agencyId: 'passage-oversight', roles: ['admin'], disabled: false };
    const error = refusal(() => checkRoleChange(admin, other, ['auditor'], 0));
    expect(error.code).toBe('failed_precondition');
    expect(error.violations[0]?.field).toBe('roles');
  });

  it('asks a chosen password of 12 to 200 characters', () => {
    expect(passwordViolation('short', 'newPassword')?.field).toBe('newPassword');
    expect(passwordViolation('a long enough pass phrase', 'newPassword')).toBeUndefined();
  });

  const role = fc.constantFrom(...personRoles);
  const agency = fc.constantFrom('london-coalition', 'pact-ottawa', 'opp', 'passage-oversight');
  const actor = fc.record({
    userId: fc.constantFrom('a', 'b', 'c'),
    agencyId: agency,
    roles: fc.uniqueArray(role, { minLength: 1, maxLength: 3 }),
  });
  const target = fc.record({
    userId: fc.constantFrom('a', 'b', 'c', 'd'),
    agencyId: agency,
    roles: fc.uniqueArray(role, { minLength: 1, maxLength: 3 }),
    disabled: fc.boolean(),
  });

  it('never lets a non-admin grant a role above their own, or reach another agency (property)', () => {
    fc.assert(
      fc.property(actor, target, fc.uniqueArray(role, { minLength: 1, maxLength: 4 }), fc.nat(3), (a, t, roles, n) => {
        let allowed = true;
        try {
          checkRoleChange(a, t, roles, n);
        } catch (error) {
          if (!(error instanceof PassageError)) throw error;
          allowed = false;
        }
        if (!allowed || a.roles.includes('admin')) return;
        expect(a.roles).toContain('supervisor');
        expect(t.agencyId).toBe(a.agencyId);
        for (const r of roles) expect(roleRank[r]).toBeLessThanOrEqual(rankOf(a.roles));
        expect(rankOf(t.roles)).toBeLessThanOrEqual(rankOf(a.roles));
      }),
    );
  });

  it('never leaves no active administrator, and nobody disables themself (property)', () => {
    fc.assert(
      fc.property(actor, target, fc.nat(3), (a, t, others) => {
        let allowed = true;
        try {
          checkDisable(a, t, others);
        } catch (error) {
          if (!(error instanceof PassageError)) throw error;
          allowed = false;
        }
        if (!allowed) return;
        expect(t.userId).not.toBe(a.userId);
        if (t.roles.includes('admin') && !t.disabled) expect(others).toBeGreaterThan(0);
      }),
    );
  });
});
