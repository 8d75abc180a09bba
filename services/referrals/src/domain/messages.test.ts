import { describe, expect, it } from 'vitest';
import { checkBody, isParty, mayReadThread, messageLimits, partiesOf, refusePost } from './messages.ts';

const referral = {
  fromAgency: 'peel-regional-police',
  toAgency: 'london-coalition',
  takenOverBy: '',
  state: 'sent' as const,
};

describe('referral messages', () => {
  it('has the sending and receiving agencies as its parties, and no one else', () => {
    expect(partiesOf(referral)).toEqual(['peel-regional-police', 'london-coalition']);
    expect(isParty(referral, 'peel-regional-police')).toBe(true);
    expect(isParty(referral, 'london-coalition')).toBe(true);
    expect(isParty(referral, 'windsor-essex-coalition')).toBe(false);
    expect(isParty(referral, '')).toBe(false);
    // An agency referring to itself is one party.
    expect(partiesOf({ fromAgency: 'a', toAgency: 'a', takenOverBy: '' })).toEqual(['a']);
  });

  it('adds the crisis line that took the referral over as a party', () => {
    const taken = { ...referral, takenOverBy: 'ontario-ht-crisis-line' };
    expect(partiesOf(taken)).toEqual(['peel-regional-police', 'london-coalition', 'ontario-ht-crisis-line']);
    expect(isParty(taken, 'ontario-ht-crisis-line')).toBe(true);
    expect(mayReadThread(taken, 'ontario-ht-crisis-line')).toBe(true);
    // Like the recipient's, its view of the words ends when the sender withdraws the referral.
    expect(mayReadThread({ ...taken, state: 'withdrawn' }, 'ontario-ht-crisis-line')).toBe(false);
  });

  it('keeps a withdrawn referral’s thread from the recipient, not from the sender', () => {
    const withdrawn = { ...referral, state: 'withdrawn' as const };
    expect(mayReadThread(withdrawn, 'london-coalition')).toBe(false);
    expect(mayReadThread(withdrawn, 'peel-regional-police')).toBe(true);
    expect(mayReadThread({ ...referral, state: 'declined' }, 'london-coalition')).toBe(true);
    expect(mayReadThread(referral, 'windsor-essex-coalition')).toBe(false);
  });

  it('takes messages until the referral is withdrawn or its thread is full', () => {
    expect(refusePost(referral, 0)).toBeUndefined();
    expect(refusePost({ state: 'declined' }, 3)).toBeUndefined();
    expect(refusePost({ state: 'closed' }, 3)).toBeUndefined();
    expect(refusePost({ state: 'withdrawn' }, 0)?.code).toBe('failed_precondition');
    expect(refusePost(referral, messageLimits.perReferral - 1)).toBeUndefined();
    expect(refusePost(referral, messageLimits.perReferral)?.code).toBe('resource_exhausted');
  });

  it('wants words, at most the limit in characters', () => {
    expect(checkBody('Synthetic question?')).toEqual([]);
    expect(checkBody('   \n')).toEqual([{ field: 'body', description: 'write the message' }]);
    expect(checkBody('é'.repeat(messageLimits.bodyChars))).toEqual([]);
    expect(checkBody('x'.repeat(messageLimits.bodyChars + 1), 'note_for_sender')[0]?.field).toBe('note_for_sender');
  });
});
