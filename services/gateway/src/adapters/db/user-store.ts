import type pg from 'pg';
import { counted, gate, type AttemptCounts, type FailureCount, type ThrottlePolicy } from '../../domain/sign-in.ts';
import type { Admission, AttemptKeys, SessionRecord, UserRecord, UserStore } from '../../app/ports.ts';

interface UserRow {
  user_id: string;
  agency_id: string;
  roles: string[];
  display_name: string;
  language: 'en' | 'fr';
  password_hash: string;
  disabled_at: Date | null;
  must_change_password: boolean;
  temporary_password_expires_at: Date | null;
}

type Scope = keyof AttemptCounts;
/** The three counts of an attempt, always in this order (so row locks are always taken in one order). */
const scopes = (keys: AttemptKeys): [Scope, string][] => [
  ['account', keys.username],
  ['accountAddress', `${keys.username}|${keys.address}`],
  ['address', keys.address],
];

const userOf = (row: UserRow): UserRecord => ({
  userId: row.user_id,
  agencyId: row.agency_id,
  roles: row.roles as UserRecord['roles'],
  displayName: row.display_name,
  language: row.language,
  passwordHash: row.password_hash,
  disabled: row.disabled_at !== null,
  mustChangePassword: row.must_change_password,
  ...(row.temporary_password_expires_at
    ? { temporaryPasswordExpiresAt: new Date(row.temporary_password_expires_at) }
    : {}),
});

export class PgUserStore implements UserStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async user(userId: string): Promise<UserRecord | undefined> {
    const { rows } = await this.#pool.query<UserRow>('select * from gateway.users where user_id = $1', [userId]);
    return rows[0] ? userOf(rows[0]) : undefined;
  }

  async userByOidcSubject(issuer: string, subject: string): Promise<UserRecord | undefined> {
    const { rows } = await this.#pool.query<UserRow>(
      `select u.* from gateway.oidc_subjects l join gateway.users u using (user_id)
        where l.issuer = $1 and l.subject = $2`,
      [issuer, subject],
    );
    return rows[0] ? userOf(rows[0]) : undefined;
  }

  async admit(keys: AttemptKeys, now: Date, policy: ThrottlePolicy): Promise<Admission> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      const rows = scopes(keys);
      // Counts nobody has added to for a day are of no use to anyone.
      await client.query(`delete from gateway.sign_in_failures where last_at < $1::timestamptz - interval '1 day'`, [
        now.toISOString(),
      ]);
      await client.query(
        `insert into gateway.sign_in_failures (scope, key, last_at)
         values ($1, $2, $7), ($3, $4, $7), ($5, $6, $7) on conflict do nothing`,
        [...rows.flat(), now.toISOString()],
      );
      const { rows: found } = await client.query<{ scope: Scope; failures: number; last_at: Date | null }>(
        `select scope, failures, last_at from gateway.sign_in_failures
          where (scope, key) in (($1, $2), ($3, $4), ($5, $6)) order by scope for update`,
        rows.flat(),
      );
      const countOf = (scope: Scope): FailureCount => {
        const row = found.find((r) => r.scope === scope);
        return { failures: row?.failures ?? 0, lastAt: row?.last_at ?? undefined };
      };
      const before: AttemptCounts = {
        account: countOf('account'),
        accountAddress: countOf('accountAddress'),
        address: countOf('address'),
      };
      const decision = gate(before, now, policy);
      if (!decision.open) {
        await client.query('commit');
        return { gate: decision, counts: before };
      }
      const after: AttemptCounts = {
        account: counted(before.account, now, policy),
        accountAddress: counted(before.accountAddress, now, policy),
        address: counted(before.address, now, policy),
      };
      for (const [scope, key] of rows) {
        await client.query(
          'update gateway.sign_in_failures set failures = $3, last_at = $4 where scope = $1 and key = $2',
          [scope, key, after[scope].failures, now.toISOString()],
        );
      }
      await client.query('commit');
      return { gate: decision, counts: after };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async forgive(keys: AttemptKeys): Promise<void> {
    const [account, accountAddress, address] = scopes(keys);
    await this.#pool.query(
      `update gateway.sign_in_failures set failures = case when scope = 'address' then greatest(failures - 1, 0) else 0 end
        where (scope, key) in (($1, $2), ($3, $4), ($5, $6)) `,
      [...account!, ...accountAddress!, ...address!],
    );
  }

  async endSessions(userId: string, now: Date): Promise<void> {
    await this.#pool.query(
      'update gateway.sessions set revoked_at = $2 where user_id = $1 and revoked_at is null and expires_at > $2',
      [userId, now.toISOString()],
    );
  }

  async upsert(user: UserRecord): Promise<void> {
    await this.#pool.query(
      `insert into gateway.users (user_id, agency_id, roles, display_name, language, password_hash)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (user_id) do update set agency_id = excluded.agency_id, roles = excluded.roles,
         display_name = excluded.display_name`,
      [user.userId, user.agencyId, user.roles, user.displayName, user.language, user.passwordHash],
    );
  }

  async createSession(
    idHash: Buffer,
    userId: string,
    csrfToken: string,
    expiresAt: Date,
    lastInputAt: Date,
  ): Promise<void> {
    await this.#pool.query(
      'insert into gateway.sessions (id_hash, user_id, csrf_token, expires_at, last_input_at) values ($1, $2, $3, $4, $5)',
      [idHash, userId, csrfToken, expiresAt.toISOString(), lastInputAt.toISOString()],
    );
  }

  async touchSession(idHash: Buffer, at: Date): Promise<void> {
    await this.#pool.query('update gateway.sessions set last_input_at = $2 where id_hash = $1 and revoked_at is null', [
      idHash,
      at.toISOString(),
    ]);
  }

  async session(idHash: Buffer, now: Date): Promise<SessionRecord | undefined> {
    const { rows } = await this.#pool.query<
      UserRow & { csrf_token: string; expires_at: Date; last_input_at: Date | null }
    >(
      `select u.*, s.csrf_token, s.expires_at, s.last_input_at from gateway.sessions s join gateway.users u using (user_id)
       where s.id_hash = $1 and s.revoked_at is null and s.expires_at > $2 and u.disabled_at is null`,
      [idHash, now.toISOString()],
    );
    const row = rows[0];
    return row
      ? {
          user: userOf(row),
          csrfToken: row.csrf_token,
          expiresAt: row.expires_at,
          lastInputAt: row.last_input_at ?? undefined,
        }
      : undefined;
  }

  async revokeSession(idHash: Buffer): Promise<void> {
    await this.#pool.query('update gateway.sessions set revoked_at = now() where id_hash = $1', [idHash]);
  }

  async setLanguage(userId: string, language: 'en' | 'fr'): Promise<void> {
    await this.#pool.query('update gateway.users set language = $2 where user_id = $1', [userId, language]);
  }

  async savePendingLogin(state: string, codeVerifier: string, nonce: string): Promise<void> {
    await this.#pool.query(`delete from gateway.oidc_logins where created_at < now() - interval '10 minutes'`);
    await this.#pool.query('insert into gateway.oidc_logins (state, code_verifier, nonce) values ($1, $2, $3)', [
      state,
      codeVerifier,
      nonce,
    ]);
  }

  async takePendingLogin(state: string): Promise<{ codeVerifier: string; nonce: string } | undefined> {
    const { rows } = await this.#pool.query<{ code_verifier: string; nonce: string }>(
      `delete from gateway.oidc_logins where state = $1 and created_at > now() - interval '10 minutes'
       returning code_verifier, nonce`,
      [state],
    );
    const row = rows[0];
    return row ? { codeVerifier: row.code_verifier, nonce: row.nonce } : undefined;
  }
}
