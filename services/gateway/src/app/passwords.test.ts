import { describe, expect, it } from 'vitest';
import { hashPassword, unusablePassword, verifyPassword } from './passwords.ts';

describe('passwords', () => {
  it('matches the password a hash was made of, and no other', async () => {
    const stored = await hashPassword('a synthetic password');
    expect(await verifyPassword('a synthetic password', stored)).toBe(true);
    expect(await verifyPassword('another synthetic password', stored)).toBe(false);
  });

  it('never matches the unusable marker of a link-only account, whatever is tried', async () => {
    for (const attempt of ['', unusablePassword, 'until-a-link-is-used', 'unusable'])
      expect(await verifyPassword(attempt, unusablePassword)).toBe(false);
  });
});
