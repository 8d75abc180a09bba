import { PassageError, type Logger } from '@passage/platform';
import { PollLoop } from './poll-loop.ts';
import {
  deskRoles,
  emailKinds,
  mailText,
  nextParties,
  noticeFor,
  retryDelayMs,
  turnedOffFor,
  type MailLanguage,
  type NotificationKind,
  type ReferralEventFacts,
  type ReferralParties,
} from '../domain/notifications.ts';

/** What the event handler reads and writes, inside the consumer's transaction (ADR 5). */
export interface NotifyTransaction {
  /** The referral's parties, locked until the transaction ends. */
  parties(referralId: string): Promise<ReferralParties | undefined>;
  saveParties(parties: ReferralParties): Promise<void>;
  /** The enabled people of an agency with one of these roles. */
  peopleOf(agencyId: string, roles: readonly string[]): Promise<string[]>;
  /** Which of these user ids are enabled accounts, with the kinds each turned off for e-mail. */
  emailOff(userIds: readonly string[]): Promise<Map<string, string[]>>;
  addNotice(notice: NoticeRow): Promise<void>;
  queueMail(mail: MailRow): Promise<void>;
}

export interface NoticeRow {
  readonly notificationId: string;
  readonly userId: string;
  readonly kind: NotificationKind;
  readonly referralId: string;
  readonly eventId: string;
}

export interface MailRow {
  readonly mailId: string;
  readonly eventId: string;
  readonly kind: NotificationKind;
  readonly referralId: string;
  /** To a person, or to an agency's desk: exactly one. */
  readonly userId?: string;
  readonly agencyId?: string;
}

/**
 * One referral event: the referral's parties brought up to date, then, if the event notifies,
 * a console notice for each person told and an e-mail queued for each address (a person who
 * kept that kind on; the receiving agency's desk). Everything in the consumer's transaction:
 * applied once, or not at all.
 */
export async function applyReferralEvent(
  tx: NotifyTransaction,
  facts: ReferralEventFacts,
  eventId: string,
  newId: () => string = () => crypto.randomUUID(),
): Promise<void> {
  if (!facts.referralId || !facts.fromAgency || !facts.toAgency) return;
  const parties = nextParties(await tx.parties(facts.referralId), facts);
  await tx.saveParties(parties);
  const notice = noticeFor(facts, parties);
  if (!notice) return;
  const people = new Set<string>();
  for (const recipient of notice.recipients) {
    if (recipient.to === 'person') people.add(recipient.userId);
    else {
      for (const userId of await tx.peopleOf(recipient.agencyId, deskRoles)) people.add(userId);
      await tx.queueMail({
        mailId: newId(),
        eventId,
        kind: notice.kind,
        referralId: notice.referralId,
        agencyId: recipient.agencyId,
      });
    }
  }
  people.delete(facts.actorUser);
  const enabled = await tx.emailOff([...people]);
  // The people named as persons (not only as the desk's) get an e-mail too, by their choice.
  const named = new Set(notice.recipients.flatMap((r) => (r.to === 'person' ? [r.userId] : [])));
  for (const [userId, off] of enabled) {
    await tx.addNotice({ notificationId: newId(), userId, kind: notice.kind, referralId: notice.referralId, eventId });
    if (named.has(userId) && emailKinds(off).includes(notice.kind)) {
      await tx.queueMail({ mailId: newId(), eventId, kind: notice.kind, referralId: notice.referralId, userId });
    }
  }
}

/** A person's notices and choices, as the NotificationService answers them. */
export interface NotificationStore {
  list(userId: string, unreadOnly: boolean, limit: number): Promise<NotificationRecord[]>;
  countUnread(userId: string): Promise<number>;
  /** `ids` undefined: all. Answers how many were marked. */
  markRead(userId: string, ids: readonly string[] | undefined, at: Date): Promise<number>;
  emailOff(userId: string): Promise<string[]>;
  setEmailOff(userId: string, off: readonly string[]): Promise<void>;
}

export interface NotificationRecord {
  readonly notificationId: string;
  readonly kind: string;
  readonly referralId: string;
  readonly createdAt: Date;
  readonly readAt: Date | undefined;
  /** The referral's short reference; '' when no event carrying it has arrived yet. */
  readonly reference: string;
}

export class Notifications {
  readonly #store: NotificationStore;
  readonly #now: () => Date;

  constructor(store: NotificationStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  list(userId: string, unreadOnly: boolean, pageSize: number): Promise<NotificationRecord[]> {
    return this.#store.list(userId, unreadOnly, pageSize > 0 ? Math.min(pageSize, 200) : 50);
  }

  countUnread(userId: string): Promise<number> {
    return this.#store.countUnread(userId);
  }

  markRead(userId: string, ids: readonly string[], all: boolean): Promise<number> {
    if (!all && ids.length === 0)
      throw PassageError.invalid([{ field: 'notification_ids', description: 'name the notices, or set all' }]);
    return this.#store.markRead(userId, all ? undefined : ids, this.#now());
  }

  async emailKinds(userId: string): Promise<NotificationKind[]> {
    return emailKinds(await this.#store.emailOff(userId));
  }

  async setEmailKinds(userId: string, kinds: readonly string[]): Promise<NotificationKind[]> {
    await this.#store.setEmailOff(userId, turnedOffFor(kinds));
    return this.emailKinds(userId);
  }
}

/** A queued e-mail, claimed for sending. */
export interface DueMail {
  readonly mailId: string;
  readonly kind: NotificationKind;
  readonly referralId: string;
  readonly userId: string | undefined;
  readonly agencyId: string | undefined;
  /** The referral's short reference; '' when no event carrying it has arrived yet. */
  readonly reference: string;
  /** Attempts before this one. */
  readonly attempts: number;
}

export interface MailQueue {
  /**
   * Up to `limit` due e-mails, each leased until `leaseUntil` so another gateway leaves it
   * alone while this one sends it (a crash mid-send: tried again when the lease ends).
   */
  claim(limit: number, now: Date, leaseUntil: Date): Promise<DueMail[]>;
  sent(mailId: string, at: Date): Promise<void>;
  /** Nothing to send it to (no address, a disabled account): recorded, not retried. */
  skipped(mailId: string, reason: string): Promise<void>;
  failed(mailId: string, error: string, nextAttemptAt: Date): Promise<void>;
  /** A person's address and language; undefined for a disabled or missing account. */
  person(userId: string): Promise<{ email: string; language: 'en' | 'fr' } | undefined>;
}

/** An agency's intake desk address (the directory's contact e-mail); undefined when it has none. */
export interface DeskDirectory {
  deskAddress(agencyId: string): Promise<string | undefined>;
}

export interface Mailer {
  /** False without SMTP_URL: queued e-mails are recorded as not sent (email_off). */
  readonly enabled: boolean;
  /** `messageId`: the same for every attempt of one e-mail, so a receiver can drop a repeat. */
  send(mail: { to: string; subject: string; text: string; messageId: string }): Promise<void>;
  close(): void;
}

export interface MailSenderOptions {
  readonly queue: MailQueue;
  readonly desks: DeskDirectory;
  readonly mailer: Mailer;
  readonly consoleUrl: string;
  readonly log: Logger;
  /** How often the queue is looked at when nothing wakes the sender. */
  readonly pollMs?: number;
  /** The first retry's delay; doubling per attempt, at most five minutes. */
  readonly retryBaseMs?: number;
  readonly now?: () => Date;
}

/**
 * Sends the queued e-mails: each due row is leased, its address looked up now (never stored in
 * the queue), sent, and marked sent; a failure is retried later with a growing delay, never
 * given up on, never stopping the gateway. Logs name the e-mail and the error's code, never an
 * address.
 */
export class MailSender {
  readonly #o: Required<Omit<MailSenderOptions, 'now'>> & { now: () => Date };
  readonly #loop: PollLoop;

  constructor(options: MailSenderOptions) {
    this.#o = { pollMs: 1_000, retryBaseMs: 1_000, now: () => new Date(), ...options };
    this.#loop = new PollLoop(
      async () => {
        await this.runOnce();
        return false;
      },
      this.#o.pollMs,
      (error) => this.#o.log.warn({ err: errorCode(error) }, 'notification e-mails: queue unreadable'),
    );
  }

  start(): void {
    this.#loop.start();
  }

  /** Looks at the queue now (an event just queued something). */
  wake(): void {
    this.#loop.wake();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    this.#o.mailer.close();
  }

  /** Sends what is due now; answers how many were sent. */
  async runOnce(): Promise<number> {
    const { queue, log } = this.#o;
    const now = this.#o.now();
    const due = await queue.claim(20, now, new Date(now.getTime() + 120_000));
    let sent = 0;
    for (const mail of due) {
      try {
        const target = this.#o.mailer.enabled ? await this.#addressOf(mail) : 'email_off';
        if (typeof target === 'string') {
          await queue.skipped(mail.mailId, target);
          log.info({ mailId: mail.mailId, kind: mail.kind, reason: target }, 'notification e-mail not sent');
          continue;
        }
        const text = mailText(mail.kind, mail.referralId, mail.reference, this.#o.consoleUrl, target.language);
        await this.#o.mailer.send({ to: target.email, ...text, messageId: `<${mail.mailId}@passage.notifications>` });
        await queue.sent(mail.mailId, this.#o.now());
        sent++;
        log.info({ mailId: mail.mailId, kind: mail.kind, attempt: mail.attempts + 1 }, 'notification e-mail sent');
      } catch (error) {
        const code = errorCode(error);
        const attempts = mail.attempts + 1;
        const next = new Date(this.#o.now().getTime() + retryDelayMs(attempts, this.#o.retryBaseMs));
        await queue.failed(mail.mailId, code, next);
        log.warn(
          { mailId: mail.mailId, kind: mail.kind, attempt: attempts, err: code },
          'notification e-mail failed; will retry',
        );
      }
    }
    return sent;
  }

  async #addressOf(mail: DueMail): Promise<{ email: string; language: MailLanguage } | string> {
    if (mail.userId) {
      const person = await this.#o.queue.person(mail.userId);
      if (!person) return 'no_account';
      return person.email ? person : 'no_address';
    }
    const desk = await this.#o.desks.deskAddress(mail.agencyId ?? '');
    return desk ? { email: desk, language: 'both' } : 'no_address';
  }
}

/**
 * What a failure is called in logs and in the queue: the error's code (ECONNREFUSED, EAUTH,
 * an SMTP reply code), never its message, which may quote an address.
 */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
    const parts = [typeof code === 'string' ? code : '', typeof responseCode === 'number' ? String(responseCode) : ''];
    const text = parts.filter(Boolean).join(' ');
    if (text) return text.slice(0, 60);
    if (error instanceof PassageError) return error.code;
  }
  return 'error';
}
