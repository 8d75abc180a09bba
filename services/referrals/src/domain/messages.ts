import type { Actor, Referral } from './referral.ts';

/**
 * Messages on a referral (docs/adr/0039-referral-messages.md): a thread between the parties of
 * a referral about it, sealed under the person's key like the packet. Pure rules only; the use
 * cases seal, store, audit and publish.
 */

/** message: written in the thread; decline_reason: the reason for the sender given with a decline. */
export const messageKinds = ['message', 'decline_reason'] as const;
export type MessageKind = (typeof messageKinds)[number];

export const messageLimits = {
  /** UTF-16 code units of one message, as the proto's max_length counts them. */
  bodyChars: 4000,
  /** Messages on one referral: a thread, not a chat log without end. */
  perReferral: 500,
} as const;

export interface Message {
  readonly id: string;
  readonly referralId: string;
  readonly author: Actor;
  readonly postedAt: Date;
  readonly kind: MessageKind;
  /** Undefined once destroyed: the person's data erased, or the retention schedule's work. */
  readonly body: string | undefined;
}

/**
 * The agencies that take part in a referral: the sending agency, the receiving agency and the
 * crisis line that took it over, if one did. The one place that says so.
 */
export function partiesOf(referral: Pick<Referral, 'fromAgency' | 'toAgency' | 'takenOverBy'>): readonly string[] {
  return [...new Set([referral.fromAgency, referral.toAgency, referral.takenOverBy].filter((a) => a !== ''))];
}

export function isParty(
  referral: Pick<Referral, 'fromAgency' | 'toAgency' | 'takenOverBy'>,
  agencyId: string,
): boolean {
  return agencyId !== '' && partiesOf(referral).includes(agencyId);
}

/**
 * Whether a party may read the thread's words now. A referral the sender withdrew (or that
 * consent's end withdrew) is no longer the recipient's: as with its packet, nothing of the
 * person comes back to it. The sender keeps its thread.
 */
export function mayReadThread(
  referral: Pick<Referral, 'fromAgency' | 'toAgency' | 'takenOverBy' | 'state'>,
  agencyId: string,
): boolean {
  if (!isParty(referral, agencyId)) return false;
  // The original recipient or the crisis line that took it over; never the sender.
  const recipientOnly = agencyId !== referral.fromAgency;
  return !(recipientOnly && referral.state === 'withdrawn');
}

export type PostRefusal = { readonly code: 'failed_precondition' | 'resource_exhausted'; readonly message: string };

/** Whether a message may be posted on the referral now; undefined when it may. */
export function refusePost(referral: Pick<Referral, 'state'>, messagesSoFar: number): PostRefusal | undefined {
  if (referral.state === 'withdrawn') {
    return { code: 'failed_precondition', message: 'this referral was withdrawn: its thread takes no more messages' };
  }
  if (messagesSoFar >= messageLimits.perReferral) {
    return {
      code: 'resource_exhausted',
      message: `a referral's thread holds at most ${messageLimits.perReferral} messages`,
    };
  }
  return undefined;
}

/** What is wrong with a message's text, if anything (field `field`). */
export function checkBody(body: string, field = 'body'): { field: string; description: string }[] {
  if (body.trim() === '') return [{ field, description: 'write the message' }];
  if (body.length > messageLimits.bodyChars) {
    return [{ field, description: `at most ${messageLimits.bodyChars} characters` }];
  }
  return [];
}

/** The key a message's body is sealed under, within the subject's data key (its associated data). */
export function messageField(referralId: string, messageId: string): string {
  return `referral:${referralId}:message:${messageId}`;
}
