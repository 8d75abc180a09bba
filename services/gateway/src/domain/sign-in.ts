/**
 * Repeated wrong passwords lock an account for a while: enough to stop guessing, short
 * enough that a worker locked out at 2 a.m. is back before the shift ends. The count is
 * kept by one SQL statement per wrong password (adapters/db/user-store.ts), so parallel
 * guesses each count.
 */
export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly lockMinutes: number;
}

export const lockoutPolicy: LockoutPolicy = { maxFailures: 5, lockMinutes: 15 };

export interface SignInState {
  readonly failures: number;
  readonly lockedUntil: Date | undefined;
}

export function isLocked(state: SignInState, now: Date): boolean {
  return state.lockedUntil !== undefined && state.lockedUntil > now;
}

export const afterSuccess: SignInState = { failures: 0, lockedUntil: undefined };
