import { describe, expect, it } from 'vitest';
import {
  accountDelayMs,
  addressKey,
  counted,
  gate,
  locksAccount,
  noFailures,
  throttlePolicy,
  type AttemptCounts,
} from './sign-in.ts';

const start = new Date('2026-11-28T02:00:00Z');
const at = (ms: number) => new Date(start.getTime() + ms);
const none: AttemptCounts = { account: noFailures, accountAddress: noFailures, address: noFailures };

/** `n` wrong passwords in a row, one a second, as the store would count them. */
function wrong(counts: AttemptCounts, n: number, from = 0): AttemptCounts {
  let c = counts;
  for (let i = 0; i < n; i++) {
    const now = at(from + i * 1000);
    c = {
      account: counted(c.account, now),
      accountAddress: counted(c.accountAddress, now),
      address: counted(c.address, now),
    };
  }
  return c;
}

describe('sign-in throttling (ADR 0021)', () => {
  it('locks an address out of one account after five wrong passwords, for the lock period only', () => {
    const four = wrong(none, 4);
    expect(gate(four, at(4000)).open).toBe(true);
    expect(locksAccount(four)).toBe(false);
    const five = wrong(none, 5);
    expect(locksAccount(five)).toBe(true);
    expect(gate(five, at(5000))).toEqual({ open: false, reason: 'account_address_locked' });
    const lockEnds = 4000 + throttlePolicy.lockMinutes * 60_000;
    expect(gate(five, at(lockEnds - 1)).open).toBe(false);
    expect(gate(five, at(lockEnds)).open).toBe(true);
  });

  it('lets the same account in from another address while one address is locked out of it', () => {
    const attacker = wrong(none, 5);
    // Another address shares the account's count, not the attacker's address counts.
    const person: AttemptCounts = { account: attacker.account, accountAddress: noFailures, address: noFailures };
    expect(gate(person, at(5000)).open).toBe(true);
  });

  it('locks an address that sprays wrong passwords over many usernames out of every account', () => {
    let address = noFailures;
    for (let i = 0; i < throttlePolicy.perAddress; i++) address = counted(address, at(i * 1000));
    const anotherName: AttemptCounts = { account: noFailures, accountAddress: noFailures, address };
    expect(gate(anotherName, at(throttlePolicy.perAddress * 1000))).toEqual({
      open: false,
      reason: 'address_locked',
    });
  });

  it('slows an account many addresses guess at, never locks it: each try after the free ones waits longer, up to a minute', () => {
    expect(accountDelayMs(throttlePolicy.accountFreeFailures - 1)).toBe(0);
    expect(accountDelayMs(throttlePolicy.accountFreeFailures)).toBe(1000);
    expect(accountDelayMs(throttlePolicy.accountFreeFailures + 3)).toBe(8000);
    expect(accountDelayMs(10_000)).toBe(throttlePolicy.maxDelaySeconds * 1000);
    let account = noFailures;
    const failures = throttlePolicy.accountFreeFailures + 20;
    for (let i = 0; i < failures; i++) account = counted(account, at(i));
    const fresh: AttemptCounts = { account, accountAddress: noFailures, address: noFailures };
    const last = failures - 1;
    expect(gate(fresh, at(last + 1))).toEqual({ open: false, reason: 'account_slowed' });
    expect(gate(fresh, at(last + throttlePolicy.maxDelaySeconds * 1000)).open).toBe(true);
  });

  it('forgets a count after a quiet window', () => {
    const four = wrong(none, 4);
    const later = at(3000 + throttlePolicy.windowMinutes * 60_000);
    expect(counted(four.accountAddress, later).failures).toBe(1);
  });

  it('counts an IPv6 address by its /64 and an IPv4 one as it is', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
  });
});
