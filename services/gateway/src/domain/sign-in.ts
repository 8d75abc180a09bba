/**
 * Sign-in throttling (ADR 0021). Wrong passwords are counted three ways: per account and
 * address, per address whatever the username, and per account whatever the address.
 *
 * - An address that got one account's password wrong `perAccountAddress` times is locked
 *   out of that account for `lockMinutes`: the lock is on the guesser's address, so the
 *   person from their own address still signs in.
 * - An address that got `perAddress` passwords wrong, whatever the usernames, is locked
 *   out of every account for `lockMinutes`: one password sprayed over many names stops.
 * - An account that many addresses guess at is slowed, never locked: after
 *   `accountFreeFailures`, each try waits twice as long as the one before (at most
 *   `maxDelaySeconds`) after the last wrong one, so the 24/7 line can always get in.
 *
 * A count restarts after `windowMinutes` without a wrong password. Every attempt the gate
 * lets through is counted before the password is checked (and forgiven when it was
 * right), so parallel guesses cannot slip past the limits. Pure: the store keeps the
 * counts under row locks (adapters/db/user-store.ts).
 */
export interface ThrottlePolicy {
  readonly perAccountAddress: number;
  readonly perAddress: number;
  readonly lockMinutes: number;
  readonly accountFreeFailures: number;
  readonly maxDelaySeconds: number;
  readonly windowMinutes: number;
}

export const throttlePolicy: ThrottlePolicy = {
  perAccountAddress: 5,
  perAddress: 20,
  lockMinutes: 15,
  accountFreeFailures: 10,
  maxDelaySeconds: 60,
  windowMinutes: 15,
};

/** Wrong passwords counted for one key, and when the last one was. */
export interface FailureCount {
  readonly failures: number;
  readonly lastAt: Date | undefined;
}

export const noFailures: FailureCount = { failures: 0, lastAt: undefined };

/** The three counts one attempt is judged by. */
export interface AttemptCounts {
  readonly accountAddress: FailureCount;
  readonly address: FailureCount;
  readonly account: FailureCount;
}

export type Gate =
  | { readonly open: true }
  | { readonly open: false; readonly reason: 'address_locked' | 'account_address_locked' | 'account_slowed' };

const minutes = (n: number) => n * 60_000;

/** The count as it stands at `now`: forgotten after a quiet window. */
export function current(count: FailureCount, now: Date, policy: ThrottlePolicy = throttlePolicy): FailureCount {
  if (!count.lastAt || now.getTime() - count.lastAt.getTime() >= minutes(policy.windowMinutes)) return noFailures;
  return count;
}

/** The count after one more wrong password at `now`. */
export function counted(count: FailureCount, now: Date, policy: ThrottlePolicy = throttlePolicy): FailureCount {
  return { failures: current(count, now, policy).failures + 1, lastAt: now };
}

const lockedBy = (count: FailureCount, limit: number, now: Date, policy: ThrottlePolicy) =>
  count.failures >= limit &&
  count.lastAt !== undefined &&
  now.getTime() < count.lastAt.getTime() + minutes(policy.lockMinutes);

/** How long after its last wrong password an account takes its next try. */
export function accountDelayMs(failures: number, policy: ThrottlePolicy = throttlePolicy): number {
  if (failures < policy.accountFreeFailures) return 0;
  const doublings = Math.min(failures - policy.accountFreeFailures, 30);
  return Math.min(2 ** doublings, policy.maxDelaySeconds) * 1000;
}

/** Whether this attempt may have its password checked at all. */
export function gate(counts: AttemptCounts, now: Date, policy: ThrottlePolicy = throttlePolicy): Gate {
  const address = current(counts.address, now, policy);
  if (lockedBy(address, policy.perAddress, now, policy)) return { open: false, reason: 'address_locked' };
  const accountAddress = current(counts.accountAddress, now, policy);
  if (lockedBy(accountAddress, policy.perAccountAddress, now, policy))
    return { open: false, reason: 'account_address_locked' };
  const account = current(counts.account, now, policy);
  const delay = accountDelayMs(account.failures, policy);
  if (delay > 0 && account.lastAt && now.getTime() < account.lastAt.getTime() + delay)
    return { open: false, reason: 'account_slowed' };
  return { open: true };
}

/** Whether this wrong password (already counted) is the one that locks its address out of the account. */
export function locksAccount(counted: AttemptCounts, policy: ThrottlePolicy = throttlePolicy): boolean {
  return counted.accountAddress.failures === policy.perAccountAddress;
}

/**
 * The key an address is counted under: an IPv6 address by its /64 (one subscriber's
 * network, where each device may take any address), anything else as it is.
 */
export function addressKey(ip: string): string {
  const address = ip.trim().toLowerCase();
  if (!address.includes(':') || /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(address)) return address.replace(/^::ffff:/, '');
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
