import { describe, expect, it } from 'vitest';
import { isLocked, lockoutPolicy } from './sign-in.ts';

describe('sign-in lockout', () => {
  it('rests an account for the lock period, then lets the person try again', () => {
    const now = new Date('2026-11-28T02:00:00Z');
    const lockedUntil = new Date(now.getTime() + lockoutPolicy.lockMinutes * 60_000);
    expect(isLocked({ failures: 0, lockedUntil }, now)).toBe(true);
    expect(isLocked({ failures: 0, lockedUntil }, new Date(lockedUntil.getTime() - 1))).toBe(true);
    expect(isLocked({ failures: 0, lockedUntil }, lockedUntil)).toBe(false);
    expect(isLocked({ failures: 4, lockedUntil: undefined }, now)).toBe(false);
  });
});
