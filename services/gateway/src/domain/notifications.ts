/**
 * Notifications (ADR 40): which referral event tells whom, and the words of the e-mail. Pure:
 * the facts come in, recipients and texts go out. A notice names a referral and a kind, never a
 * person, a packet, a note or a message's words; an e-mail carries a short reference and a link.
 */

export const notificationKinds = ['urgent_referral', 'escalated', 'declined', 'message'] as const;
export type NotificationKind = (typeof notificationKinds)[number];

export const isNotificationKind = (value: string): value is NotificationKind =>
  (notificationKinds as readonly string[]).includes(value);

/** The roles that work an agency's inbox: told, in the console, of what reaches the agency's desk. */
export const deskRoles = ['intake_worker', 'supervisor', 'crisis_counsellor'] as const;

/** What the gateway remembers of a referral, from its events: who is on each side of it. */
export interface ReferralParties {
  readonly referralId: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  /** The person who sent it (the sent event's actor); empty when unknown. */
  readonly sentBy: string;
  /** The receiving worker it is assigned to; empty when unassigned. */
  readonly assignedUser: string;
  readonly version: number;
}

/** The facts of one referral event that notifications look at. */
export interface ReferralEventFacts {
  readonly referralId: string;
  /** The event's name: sent, escalated, declined, message_posted, ... */
  readonly event: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: string;
  readonly actorUser: string;
  readonly actorAgency: string;
  /** The referral's version (0 for events that carry none, as message_posted). */
  readonly version: number;
  /** The assignment the event carries (ReferralChanged.assigned_user); undefined when it carries none. */
  readonly assignedUser: string | undefined;
  /** message_posted: the agency whose worker wrote. */
  readonly authorAgency: string;
}

/** Who a notice goes to: one person, or an agency's intake desk (its on-call address and inbox people). */
export type Recipient =
  { readonly to: 'person'; readonly userId: string } | { readonly to: 'desk'; readonly agencyId: string };

export interface Notice {
  readonly kind: NotificationKind;
  readonly referralId: string;
  readonly recipients: readonly Recipient[];
}

/**
 * The referral's parties after the event: the first event seen makes them, a newer version's
 * assignment replaces the older one, and an older event changes nothing (events may come out of order).
 */
export function nextParties(known: ReferralParties | undefined, event: ReferralEventFacts): ReferralParties {
  const base: ReferralParties = known ?? {
    referralId: event.referralId,
    fromAgency: event.fromAgency,
    toAgency: event.toAgency,
    sentBy: '',
    assignedUser: '',
    version: 0,
  };
  const sentBy =
    base.sentBy || (event.event === 'sent' && event.actorAgency === event.fromAgency ? event.actorUser : '');
  const newer = event.assignedUser !== undefined && event.version > base.version;
  return {
    ...base,
    sentBy,
    assignedUser: newer ? event.assignedUser : base.assignedUser,
    version: Math.max(base.version, event.version),
  };
}

const person = (userId: string): Recipient[] => (userId ? [{ to: 'person', userId }] : []);

/**
 * Which event notifies whom (`parties`: as known after the event):
 * - a new urgent referral → the receiving agency's desk, and its assigned worker if any;
 * - an escalation → the receiving agency's desk, and its assigned worker if any;
 * - a decline → the person who sent it;
 * - a message → the other side: from the sender's agency, the receiving worker (or, unassigned,
 *   the receiving desk); from the receiving agency, the person who sent it.
 * Nobody is told of what they did themselves.
 */
export function noticeFor(event: ReferralEventFacts, parties: ReferralParties): Notice | undefined {
  const make = (kind: NotificationKind, recipients: Recipient[]): Notice | undefined => {
    const others = recipients.filter((r) => r.to === 'desk' || r.userId !== event.actorUser);
    return others.length > 0 ? { kind, referralId: event.referralId, recipients: others } : undefined;
  };
  const receiving = (): Recipient[] => [{ to: 'desk', agencyId: parties.toAgency }, ...person(parties.assignedUser)];
  switch (event.event) {
    case 'sent':
      return event.priority === 'urgent' ? make('urgent_referral', receiving()) : undefined;
    case 'escalated':
      return make('escalated', receiving());
    case 'declined':
      return make('declined', person(parties.sentBy));
    case 'message_posted': {
      if (event.authorAgency === parties.toAgency) return make('message', person(parties.sentBy));
      if (event.authorAgency === parties.fromAgency)
        return make(
          'message',
          parties.assignedUser ? person(parties.assignedUser) : [{ to: 'desk', agencyId: parties.toAgency }],
        );
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The kinds a person gets by e-mail: every kind but those they turned off. */
export function emailKinds(turnedOff: readonly string[]): NotificationKind[] {
  return notificationKinds.filter((kind) => !turnedOff.includes(kind));
}

/** What a person turns off when they choose `kinds` for e-mail. */
export function turnedOffFor(kinds: readonly string[]): NotificationKind[] {
  return notificationKinds.filter((kind) => !kinds.includes(kind));
}

/**
 * A referral's reference in a notice: its short reference ("R-7K3M-Q9", what people search
 * by), or, for a referral whose reference has not reached the gateway, the last eight hex
 * digits of its id, upper case (a UUIDv7's first digits are its time).
 */
export function shortReference(referralId: string, reference = ''): string {
  return reference || referralId.replaceAll('-', '').slice(-8).toUpperCase();
}

export type MailLanguage = 'en' | 'fr' | 'both';

export interface MailText {
  readonly subject: string;
  readonly text: string;
}

const words: Record<'en' | 'fr', Record<NotificationKind, string> & { open: string; why: string; name: string }> = {
  en: {
    urgent_referral: 'An urgent referral is waiting',
    escalated: 'A referral needs attention',
    declined: 'A referral you sent was declined',
    message: 'A new message on a referral',
    open: 'Open it in the console (sign-in needed)',
    why: 'You get this notice from Passage; choose which notices come by e-mail in the console.',
    name: 'Reference',
  },
  fr: {
    urgent_referral: 'Une demande urgente attend',
    escalated: 'Une demande requiert votre attention',
    declined: 'Une demande que vous avez envoyée a été refusée',
    message: 'Un nouveau message sur une demande',
    open: 'L’ouvrir dans la console (connexion requise)',
    why: 'Cet avis vient de Passage ; choisissez dans la console les avis reçus par courriel.',
    name: 'Référence',
  },
};

/**
 * The e-mail of a notice: a neutral subject (no word of what the network is about, ADR 35), the
 * short reference and a link to the referral in the console — nothing else. An agency's desk
 * gets both languages; a person, their own.
 */
export function mailText(
  kind: NotificationKind,
  referralId: string,
  reference: string,
  consoleUrl: string,
  language: MailLanguage,
): MailText {
  const ref = shortReference(referralId, reference);
  const link = `${consoleUrl.replace(/\/+$/, '')}/referrals/${encodeURIComponent(referralId)}`;
  const part = (lang: 'en' | 'fr') => {
    const w = words[lang];
    return `${w[kind]}.\n${w.name}: ${ref}\n\n${w.open}:\n${link}\n\n${w.why}\n`;
  };
  if (language === 'both') {
    return {
      subject: `Passage ${ref}: ${words.en[kind]} / ${words.fr[kind]}`,
      text: `${part('en')}\n---\n\n${part('fr')}`,
    };
  }
  return { subject: `Passage ${ref}: ${words[language][kind]}`, text: part(language) };
}

/** When a failed e-mail is tried again: 1 s doubling per attempt, at most `capMs` (5 minutes). */
export function retryDelayMs(attempts: number, baseMs = 1_000, capMs = 300_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
}
