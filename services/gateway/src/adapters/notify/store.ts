import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type {
  DueMail,
  MailQueue,
  MailRow,
  NoticeRow,
  NotificationRecord,
  NotificationStore,
  NotifyTransaction,
} from '../../app/notifications.ts';
import { isNotificationKind, type NotificationKind, type ReferralParties } from '../../domain/notifications.ts';

/** A Postgres array literal, each item quoted and escaped (the driver would spread a JS array). */
export const pgArray = (items: readonly string[]): string =>
  `{${items.map((i) => `"${i.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;

/** The notification tables, in the consumer's transaction (its inbox row commits with these). */
export class PgNotifyTransaction implements NotifyTransaction {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async parties(referralId: string): Promise<ReferralParties | undefined> {
    const [row] = await this.#em.execute<
      { from_agency: string; to_agency: string; sent_by: string; assigned_user: string; version: string }[]
    >(
      `select from_agency, to_agency, sent_by, assigned_user, version::text as version
       from gateway.notify_referrals where referral_id = ? for update`,
      [referralId],
    );
    if (!row) return undefined;
    return {
      referralId,
      fromAgency: row.from_agency,
      toAgency: row.to_agency,
      sentBy: row.sent_by,
      assignedUser: row.assigned_user,
      version: Number(row.version),
    };
  }

  /** Keeps the referral's short reference from the first event that carries it. */
  async rememberReference(referralId: string, reference: string): Promise<void> {
    if (!reference) return;
    await this.#em.execute(
      `update gateway.notify_referrals set reference = ? where referral_id = ? and reference = ''`,
      [reference, referralId],
    );
  }

  async saveParties(p: ReferralParties): Promise<void> {
    await this.#em.execute(
      `insert into gateway.notify_referrals (referral_id, from_agency, to_agency, sent_by, assigned_user, version)
       values (?, ?, ?, ?, ?, ?)
       on conflict (referral_id) do update set sent_by = excluded.sent_by,
         assigned_user = excluded.assigned_user, version = excluded.version`,
      [p.referralId, p.fromAgency, p.toAgency, p.sentBy, p.assignedUser, p.version],
    );
  }

  async peopleOf(agencyId: string, roles: readonly string[]): Promise<string[]> {
    const rows = await this.#em.execute<{ user_id: string }[]>(
      `select user_id from gateway.users
       where agency_id = ? and disabled_at is null and roles && ?::text[] order by user_id`,
      [agencyId, pgArray(roles)],
    );
    return rows.map((row) => row.user_id);
  }

  async emailOff(userIds: readonly string[]): Promise<Map<string, string[]>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.#em.execute<{ user_id: string; email_off: string[] | null }[]>(
      `select u.user_id, p.email_off from gateway.users u
       left join gateway.notification_preferences p on p.user_id = u.user_id
       where u.user_id = any(?::text[]) and u.disabled_at is null order by u.user_id`,
      [pgArray(userIds)],
    );
    return new Map(rows.map((row) => [row.user_id, row.email_off ?? []]));
  }

  async addNotice(n: NoticeRow): Promise<void> {
    await this.#em.execute(
      `insert into gateway.notifications (notification_id, user_id, kind, referral_id, event_id)
       values (?, ?, ?, ?, ?) on conflict (user_id, event_id) do nothing`,
      [n.notificationId, n.userId, n.kind, n.referralId, n.eventId],
    );
  }

  async queueMail(m: MailRow): Promise<void> {
    await this.#em.execute(
      `insert into gateway.notification_mail (mail_id, event_id, kind, referral_id, user_id, agency_id)
       values (?, ?, ?, ?, ?, ?)`,
      [m.mailId, m.eventId, m.kind, m.referralId, m.userId ?? null, m.agencyId ?? null],
    );
  }
}

const date = (value: Date | string): Date => new Date(value);

/** A person's notices and choices, and the e-mail queue. */
export class PgNotificationStore implements NotificationStore, MailQueue {
  readonly #orm: MikroORM;

  constructor(orm: MikroORM) {
    this.#orm = orm;
  }

  #em(): EntityManager {
    return this.#orm.em.fork();
  }

  async list(userId: string, unreadOnly: boolean, limit: number): Promise<NotificationRecord[]> {
    const rows = await this.#em().execute<
      {
        notification_id: string;
        kind: string;
        referral_id: string;
        created_at: Date | string;
        read_at: Date | string | null;
        reference: string | null;
      }[]
    >(
      `select n.notification_id, n.kind, n.referral_id, n.created_at, n.read_at, r.reference
       from gateway.notifications n left join gateway.notify_referrals r on r.referral_id = n.referral_id
       where n.user_id = ? ${unreadOnly ? 'and n.read_at is null' : ''}
       order by n.created_at desc, n.notification_id desc limit ?`,
      [userId, limit],
    );
    return rows.map((row) => ({
      notificationId: row.notification_id,
      kind: row.kind,
      referralId: row.referral_id,
      createdAt: date(row.created_at),
      readAt: row.read_at ? date(row.read_at) : undefined,
      reference: row.reference ?? '',
    }));
  }

  async countUnread(userId: string): Promise<number> {
    const [row] = await this.#em().execute<{ count: number }[]>(
      'select count(*)::int as count from gateway.notifications where user_id = ? and read_at is null',
      [userId],
    );
    return row?.count ?? 0;
  }

  async markRead(userId: string, ids: readonly string[] | undefined, at: Date): Promise<number> {
    const rows = await this.#em().execute<{ notification_id: string }[]>(
      `update gateway.notifications set read_at = ?
       where user_id = ? and read_at is null ${ids ? 'and notification_id = any(?::uuid[])' : ''}
       returning notification_id`,
      ids ? [at, userId, pgArray(ids)] : [at, userId],
    );
    return rows.length;
  }

  async emailOff(userId: string): Promise<string[]> {
    const [row] = await this.#em().execute<{ email_off: string[] }[]>(
      'select email_off from gateway.notification_preferences where user_id = ?',
      [userId],
    );
    return row?.email_off ?? [];
  }

  async setEmailOff(userId: string, off: readonly string[]): Promise<void> {
    await this.#em().execute(
      `insert into gateway.notification_preferences (user_id, email_off) values (?, ?::text[])
       on conflict (user_id) do update set email_off = excluded.email_off, updated_at = now()`,
      [userId, pgArray(off)],
    );
  }

  async claim(limit: number, now: Date, leaseUntil: Date): Promise<DueMail[]> {
    const rows = await this.#em().execute<
      {
        mail_id: string;
        kind: string;
        referral_id: string;
        user_id: string | null;
        agency_id: string | null;
        attempts: number;
        reference: string | null;
      }[]
    >(
      `update gateway.notification_mail m set next_attempt_at = ?
       where m.mail_id in (
         select mail_id from gateway.notification_mail
         where sent_at is null and skipped is null and next_attempt_at <= ?
         order by next_attempt_at limit ? for update skip locked)
       returning m.mail_id, m.kind, m.referral_id, m.user_id, m.agency_id, m.attempts,
         (select r.reference from gateway.notify_referrals r where r.referral_id = m.referral_id) as reference`,
      [leaseUntil, now, limit],
    );
    return rows.flatMap((row) =>
      isNotificationKind(row.kind)
        ? [
            {
              mailId: row.mail_id,
              kind: row.kind satisfies NotificationKind,
              referralId: row.referral_id,
              userId: row.user_id ?? undefined,
              agencyId: row.agency_id ?? undefined,
              reference: row.reference ?? '',
              attempts: row.attempts,
            },
          ]
        : [],
    );
  }

  async sent(mailId: string, at: Date): Promise<void> {
    await this.#em().execute(
      'update gateway.notification_mail set sent_at = ?, attempts = attempts + 1, last_error = null where mail_id = ?',
      [at, mailId],
    );
  }

  async skipped(mailId: string, reason: string): Promise<void> {
    await this.#em().execute('update gateway.notification_mail set skipped = ? where mail_id = ?', [reason, mailId]);
  }

  async failed(mailId: string, error: string, nextAttemptAt: Date): Promise<void> {
    await this.#em().execute(
      `update gateway.notification_mail set attempts = attempts + 1, last_error = ?, next_attempt_at = ?
       where mail_id = ?`,
      [error, nextAttemptAt, mailId],
    );
  }

  async person(userId: string): Promise<{ email: string; language: 'en' | 'fr' } | undefined> {
    const [row] = await this.#em().execute<{ email: string; language: string }[]>(
      'select email, language from gateway.users where user_id = ? and disabled_at is null',
      [userId],
    );
    if (!row) return undefined;
    return { email: row.email, language: row.language === 'fr' ? 'fr' : 'en' };
  }
}
