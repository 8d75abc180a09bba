import { describe, expect, it } from 'vitest';
import { afterFailure, afterSuccess, isLocked } from './sign-in.ts';

describe('sign-in lockout', () => {
  it('locks after five failures for fifteen minutes, then lets the person try again', () => {
    const now = new Date('2026-11-28T02:00:00Z');
    let state = afterSuccess;
    for (let i = 0; i < 4; i++) state = afterFailure(state, now);
    expect(isLocked(state, now)).toBe(false);
    state = afterFailure(state, now);
    expect(isLocked(state, now)).toBe(true);
    expect(isLocked(state, new Date(now.getTime() + 14 * 60_000))).toBe(true);
    expect(isLocked(state, new Date(now.getTime() + 15 * 60_000))).toBe(false);
  });
});
