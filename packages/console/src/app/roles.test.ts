import { describe, expect, it } from 'vitest';
import { grantableRoles, manages, may, screens } from './roles.ts';

describe('the people screen and the roles it offers', () => {
  it('is open to administrators and supervisors only', () => {
    expect(may({ roles: ['admin'] }, 'people')).toBe(true);
    expect(may({ roles: ['supervisor'] }, 'people')).toBe(true);
    for (const role of ['officer', 'crisis_counsellor', 'intake_worker', 'auditor'])
      expect(screens({ roles: [role] })).not.toContain('people');
  });

  it('offers an administrator every role, a supervisor none above their own, anyone else none', () => {
    expect(grantableRoles({ roles: ['admin'] })).toEqual([
      'officer',
      'crisis_counsellor',
      'intake_worker',
      'supervisor',
      'auditor',
      'admin',
    ]);
    expect(grantableRoles({ roles: ['supervisor'] })).toEqual([
      'officer',
      'crisis_counsellor',
      'intake_worker',
      'supervisor',
    ]);
    expect(grantableRoles({ roles: ['intake_worker'] })).toEqual([]);
  });

  it('lets a supervisor manage their own agency’s people up to their own rank, an administrator anyone', () => {
    const supervisor = { roles: ['supervisor'], agencyId: 'london-coalition' };
    expect(manages(supervisor, { agencyId: 'london-coalition', roles: ['intake_worker'] })).toBe(true);
    expect(manages(supervisor, { agencyId: 'london-coalition', roles: ['supervisor'] })).toBe(true);
    expect(manages(supervisor, { agencyId: 'london-coalition', roles: ['auditor'] })).toBe(false);
    expect(manages(supervisor, { agencyId: 'windsor-essex', roles: ['intake_worker'] })).toBe(false);
    expect(manages({ roles: ['admin'], agencyId: 'ministry' }, { agencyId: 'windsor-essex', roles: ['admin'] })).toBe(
      true,
    );
  });
});
