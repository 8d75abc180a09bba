import { createContext, useContext } from 'react';
import type { User } from '../api/edge.ts';
import type { Agency } from '../api/generated.ts';

export interface SignedIn {
  readonly user: User;
  readonly agencies: ReadonlyMap<string, Agency>;
  readonly signOut: () => Promise<void>;
}

export const SessionContext = createContext<SignedIn | undefined>(undefined);

export function useSession(): SignedIn {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

export const useOptionalSession = (): SignedIn | undefined => useContext(SessionContext);
