import type { Caller } from './roles.ts';

/** Synthetic demo users of the seeded network, one per kind of work. */
export const demoUsers: Readonly<Record<string, Caller>> = {
  'peel-officer': { userId: 'peel-officer', agencyId: 'peel-regional-police', roles: ['officer'] },
  'tps-officer': { userId: 'tps-officer', agencyId: 'toronto-police-service', roles: ['officer'] },
  'opp-officer': { userId: 'opp-officer', agencyId: 'opp', roles: ['officer'] },
  'crisis-counsellor': {
    userId: 'crisis-counsellor',
    agencyId: 'ontario-ht-crisis-line',
    roles: ['crisis_counsellor'],
  },
  'walk-with-me-worker': { userId: 'walk-with-me-worker', agencyId: 'walk-with-me', roles: ['crisis_counsellor'] },
  'london-intake': { userId: 'london-intake', agencyId: 'london-coalition', roles: ['intake_worker'] },
  'london-supervisor': {
    userId: 'london-supervisor',
    agencyId: 'london-coalition',
    roles: ['supervisor', 'intake_worker'],
  },
  'pact-intake': { userId: 'pact-intake', agencyId: 'pact-ottawa', roles: ['intake_worker'] },
  'windsor-intake': { userId: 'windsor-intake', agencyId: 'windsor-essex-ahtag', roles: ['intake_worker'] },
  'windsor-supervisor': {
    userId: 'windsor-supervisor',
    agencyId: 'windsor-essex-ahtag',
    roles: ['supervisor', 'intake_worker'],
  },
  'sarnia-intake': { userId: 'sarnia-intake', agencyId: 'sarnia-lambton-committee', roles: ['intake_worker'] },
  auditor: { userId: 'auditor', agencyId: 'passage-oversight', roles: ['auditor'] },
  admin: { userId: 'admin', agencyId: 'passage-oversight', roles: ['admin'] },
};
