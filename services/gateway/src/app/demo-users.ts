import { demoUsers } from '@passage/auth';
import { hashPassword } from './passwords.ts';
import type { UserStore } from './ports.ts';

/** Synthetic people for a development network: one per kind of work, French at PACT-Ottawa. */
const names: Record<string, string> = {
  'peel-officer': 'Constable Dana Peel (demo)',
  'opp-officer': 'Constable Sam Provincial (demo)',
  'tps-officer': 'Constable Lee Toronto (demo)',
  'crisis-counsellor': 'Riley, crisis line counsellor (demo)',
  'walk-with-me-worker': 'Jordan, Walk With Me responder (demo)',
  'london-intake': 'Alex, London intake (demo)',
  'london-supervisor': 'Morgan, London supervisor (demo)',
  'pact-intake': 'Camille, accueil PACT-Ottawa (démo)',
  'windsor-intake': 'Casey, Windsor-Essex intake (demo)',
  'windsor-supervisor': 'Taylor, Windsor-Essex supervisor (demo)',
  'sarnia-intake': 'Quinn, Sarnia-Lambton intake (demo)',
  auditor: 'Avery, Ministry auditor (demo)',
  admin: 'Robin, Ministry administrator (demo)',
};

export async function seedDemoUsers(users: UserStore, password: string): Promise<void> {
  for (const [userId, caller] of Object.entries(demoUsers)) {
    if (await users.user(userId)) continue;
    await users.upsert({
      ...caller,
      displayName: names[userId] ?? `${userId} (demo)`,
      language: userId === 'pact-intake' ? 'fr' : 'en',
      passwordHash: await hashPassword(password),
    });
  }
}
