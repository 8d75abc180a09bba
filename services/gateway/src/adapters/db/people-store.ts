import type { Topology } from '@passage/events';
import { enqueueAdminAction } from './audit-events.ts';
import type { EntityManager, MikroORM } from '@passage/platform';
import type {
  AdminAudit,
  NewPerson,
  OidcLink,
  PeopleStore,
  PeopleTransaction,
  PersonChanges,
  PersonRecord,
  SessionSummary,
} from '../../app/people.ts';

interface PersonRow {
  user_id: string;
  display_name: string;
  email: string;
  agency_id: string;
  roles: string[];
  language: 'en' | 'fr';
  disabled_at: Date | string | null;
  must_change_password: boolean;
  created_at: Date | string;
  password_hash: string;
  oidc_subjects: OidcLink[] | null;
}

// Each person with their identity-provider links.
const selectPeople = `select u.*, (select coalesce(json_agg(json_build_object('issuer', l.issuer, 'subject', l.subject)
    order by l.issuer, l.subject), '[]'::json) from gateway.oidc_subjects l where l.user_id = u.user_id) as oidc_subjects
  from gateway.users u`;

const personOf = (row: PersonRow): PersonRecord & { passwordHash: string } => ({
  userId: row.user_id,
  displayName: row.display_name,
  email: row.email,
  agencyId: row.agency_id,
  roles: row.roles,
  language: row.language,
  disabledAt: row.disabled_at === null ? undefined : new Date(row.disabled_at),
  mustChangePassword: row.must_change_password,
  oidcSubjects: row.oidc_subjects ?? [],
  createdAt: new Date(row.created_at),
  passwordHash: row.password_hash,
});

const withoutHash = ({ passwordHash: _, ...person }: PersonRecord & { passwordHash: string }): PersonRecord => person;

/**
 * People administration in the gateway's schema: each change in one transaction with its
 * audit.v1.admin_action event in the outbox, relayed to the bus (principle 3).
 */
export class PgPeopleStore implements PeopleStore {
  readonly #orm: MikroORM;
  readonly #topology: Topology;

  constructor(orm: MikroORM, topology: Topology) {
    this.#orm = orm;
    this.#topology = topology;
  }

  async person(userId: string): Promise<PersonRecord | undefined> {
    const rows = await this.#orm.em.fork().execute<PersonRow[]>(`${selectPeople} where u.user_id = ?`, [userId]);
    return rows[0] ? withoutHash(personOf(rows[0])) : undefined;
  }

  async list(agencyId: string | undefined, after: string, limit: number): Promise<PersonRecord[]> {
    const rows = await this.#orm.em
      .fork()
      .execute<PersonRow[]>(
        `${selectPeople} where (?::text is null or u.agency_id = ?) and u.user_id > ? order by u.user_id limit ?`,
        [agencyId ?? null, agencyId ?? null, after, limit],
      );
    return rows.map((row) => withoutHash(personOf(row)));
  }

  async openSessions(userId: string, now: Date): Promise<SessionSummary[]> {
    const rows = await this.#orm.em
      .fork()
      .execute<{ id_hash: Buffer; created_at: Date | string; expires_at: Date | string }[]>(
        `select id_hash, created_at, expires_at from gateway.sessions
        where user_id = ? and revoked_at is null and expires_at > ? order by created_at`,
        [userId, now.toISOString()],
      );
    return rows.map((row) => ({
      sessionId: row.id_hash.toString('base64url'),
      // The ORM's raw queries may answer times as text.
      createdAt: new Date(row.created_at),
      expiresAt: new Date(row.expires_at),
    }));
  }

  async taken(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await this.#orm.em
      .fork()
      .execute<{ user_id: string }[]>('select user_id from gateway.users where user_id = any(?::text[])', [
        // A Postgres array literal, each id quoted and escaped.
        `{${userIds.map((id) => `"${id.replace(/["\\]/g, '\\$&')}"`).join(',')}}`,
      ]);
    return new Set(rows.map((row) => row.user_id));
  }

  async scimClient(tokenHash: Buffer): Promise<{ clientId: string; agencyId: string } | undefined> {
    const [row] = await this.#orm.em
      .fork()
      .execute<{ client_id: string; agency_id: string }[]>(
        'select client_id, agency_id from gateway.scim_clients where token_hash = ? and revoked_at is null',
        [tokenHash],
      );
    return row ? { clientId: row.client_id, agencyId: row.agency_id } : undefined;
  }

  transaction<T>(work: (tx: PeopleTransaction) => Promise<T>): Promise<T> {
    return this.#orm.em.fork().transactional((em) => work(new PgPeopleTransaction(em, this.#topology)));
  }
}

class PgPeopleTransaction implements PeopleTransaction {
  readonly #em: EntityManager;
  readonly #topology: Topology;

  constructor(em: EntityManager, topology: Topology) {
    this.#em = em;
    this.#topology = topology;
  }

  async lock(userId: string): Promise<(PersonRecord & { passwordHash: string }) | undefined> {
    // Every change of who is an active administrator waits for the others: two administrators
    // disabling each other at once cannot leave none.
    await this.#em.execute("select pg_advisory_xact_lock(hashtext('gateway:administrators'))");
    await this.#em.execute('select 1 from gateway.users where user_id = ? for update', [userId]);
    const rows = await this.#em.execute<PersonRow[]>(`${selectPeople} where u.user_id = ?`, [userId]);
    return rows[0] ? personOf(rows[0]) : undefined;
  }

  async otherActiveAdmins(userId: string): Promise<number> {
    const [row] = await this.#em.execute<{ n: number }[]>(
      `select count(*)::int as n from gateway.users
        where 'admin' = any(roles) and disabled_at is null and user_id <> ?`,
      [userId],
    );
    return row?.n ?? 0;
  }

  async insert(person: NewPerson, passwordHash: string, temporaryUntil: Date | undefined, now: Date): Promise<boolean> {
    const rows = await this.#em.execute<{ user_id: string }[]>(
      `insert into gateway.users
         (user_id, agency_id, roles, display_name, email, language, password_hash, must_change_password,
          temporary_password_expires_at, created_at)
       values (?, ?, ?::text[], ?, ?, ?, ?, ?, ?, ?) on conflict (user_id) do nothing returning user_id`,
      [
        person.userId,
        person.agencyId,
        `{${person.roles.join(',')}}`,
        person.displayName,
        person.email,
        person.language,
        passwordHash,
        temporaryUntil !== undefined,
        temporaryUntil?.toISOString() ?? null,
        now.toISOString(),
      ],
    );
    return rows.length === 1;
  }

  async update(userId: string, changes: PersonChanges): Promise<void> {
    await this.#em.execute(
      `update gateway.users set display_name = coalesce(?, display_name), email = coalesce(?, email),
         roles = coalesce(?::text[], roles), language = coalesce(?, language) where user_id = ?`,
      [
        changes.displayName || null,
        changes.email ?? null,
        changes.roles ? `{${changes.roles.join(',')}}` : null,
        changes.language ?? null,
        userId,
      ],
    );
  }

  async setDisabled(userId: string, at: Date | undefined): Promise<void> {
    await this.#em.execute('update gateway.users set disabled_at = ? where user_id = ?', [
      at?.toISOString() ?? null,
      userId,
    ]);
    // A disabled person's unused links are spent: enabling them again does not revive a link.
    if (at) await this.#spendLinks(userId, at);
  }

  async setPassword(userId: string, passwordHash: string, temporaryUntil: Date | undefined, now: Date): Promise<void> {
    await this.#em.execute(
      `update gateway.users set password_hash = ?, must_change_password = ?, temporary_password_expires_at = ?
        where user_id = ?`,
      [passwordHash, temporaryUntil !== undefined, temporaryUntil?.toISOString() ?? null, userId],
    );
    // Any new password (a reset, a change, a link used) spends the person's earlier unused links.
    await this.#spendLinks(userId, now);
  }

  async #spendLinks(userId: string, now: Date): Promise<void> {
    await this.#em.execute('update gateway.password_links set used_at = ? where user_id = ? and used_at is null', [
      now.toISOString(),
      userId,
    ]);
  }

  async endSessions(userId: string, now: Date, which: { only?: string; except?: string } = {}): Promise<number> {
    const only = which.only ? Buffer.from(which.only, 'base64url') : null;
    const except = which.except ? Buffer.from(which.except, 'base64url') : null;
    const rows = await this.#em.execute<{ id_hash: Buffer }[]>(
      `update gateway.sessions set revoked_at = ?
        where user_id = ? and revoked_at is null and expires_at > ?
          and (?::bytea is null or id_hash = ?) and (?::bytea is null or id_hash <> ?)
        returning id_hash`,
      [now.toISOString(), userId, now.toISOString(), only, only, except, except],
    );
    return rows.length;
  }

  async issueLink(userId: string, tokenHash: Buffer, now: Date, expiresAt: Date): Promise<void> {
    await this.#spendLinks(userId, now);
    await this.#em.execute(
      'insert into gateway.password_links (token_hash, user_id, created_at, expires_at) values (?, ?, ?, ?)',
      [tokenHash, userId, now.toISOString(), expiresAt.toISOString()],
    );
  }

  async takeLink(tokenHash: Buffer, now: Date): Promise<string | undefined> {
    const rows = await this.#em.execute<{ user_id: string }[]>(
      `update gateway.password_links l set used_at = ?
        from gateway.users u
        where l.token_hash = ? and l.used_at is null and l.expires_at > ?
          and u.user_id = l.user_id and u.disabled_at is null
        returning l.user_id`,
      [now.toISOString(), tokenHash, now.toISOString()],
    );
    return rows[0]?.user_id;
  }

  async link(userId: string, subject: OidcLink): Promise<string | undefined> {
    await this.#em.execute(
      'insert into gateway.oidc_subjects (issuer, subject, user_id) values (?, ?, ?) on conflict do nothing',
      [subject.issuer, subject.subject, userId],
    );
    const [row] = await this.#em.execute<{ user_id: string }[]>(
      'select user_id from gateway.oidc_subjects where issuer = ? and subject = ?',
      [subject.issuer, subject.subject],
    );
    return row && row.user_id !== userId ? row.user_id : undefined;
  }

  async unlink(userId: string, subject: OidcLink): Promise<boolean> {
    const rows = await this.#em.execute<{ user_id: string }[]>(
      'delete from gateway.oidc_subjects where issuer = ? and subject = ? and user_id = ? returning user_id',
      [subject.issuer, subject.subject, userId],
    );
    return rows.length === 1;
  }

  async addScimClient(clientId: string, agencyId: string, tokenHash: Buffer, createdBy: string): Promise<void> {
    await this.#em.execute(
      'insert into gateway.scim_clients (client_id, agency_id, token_hash, created_by) values (?, ?, ?, ?)',
      [clientId, agencyId, tokenHash, createdBy],
    );
  }

  async record(audit: AdminAudit): Promise<void> {
    await enqueueAdminAction(this.#em, this.#topology, audit);
  }
}
