import { createContext, useContext } from 'react';
import type { User } from '../api/edge.ts';
import type { Agency } from '../api/generated.ts';

export interface SignedIn {
  readonly user: User;
  readonly agencies: ReadonlyMap<string, Agency>;
  readonly signOut: () => Promise<void>;
  /** Reads the directory's agencies again (after a listing is added, its name shows everywhere). */
  readonly reloadAgencies: () => void;
  /** Signed in with a temporary password: only choosing one's own is open (no menus). */
  readonly mustChangePassword: boolean;
}

export const SessionContext = createContext<SignedIn | undefined>(undefined);

export function useSession(): SignedIn {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

export const useOptionalSession = (): SignedIn | undefined => useContext(SessionContext);
