/**
 * Repeated wrong passwords lock an account for a while: enough to stop guessing, short
 * enough that a worker locked out at 2 a.m. is back before the shift ends.
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

export function afterFailure(state: SignInState, now: Date, policy = lockoutPolicy): SignInState {
  const failures = isLocked(state, now) ? state.failures : state.failures + 1;
  return failures >= policy.maxFailures
    ? { failures: 0, lockedUntil: new Date(now.getTime() + policy.lockMinutes * 60_000) }
    : { failures, lockedUntil: state.lockedUntil };
}

export const afterSuccess: SignInState = { failures: 0, lockedUntil: undefined };
