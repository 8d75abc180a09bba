import type pg from 'pg';
import type { LockoutPolicy, SignInState } from '../../domain/sign-in.ts';
import type { SessionRecord, UserRecord, UserStore } from '../../app/ports.ts';

interface UserRow {
  user_id: string;
  agency_id: string;
  roles: string[];
  display_name: string;
  language: 'en' | 'fr';
  password_hash: string;
  failures: number;
  locked_until: Date | null;
}

const userOf = (row: UserRow): UserRecord => ({
  userId: row.user_id,
  agencyId: row.agency_id,
  roles: row.roles as UserRecord['roles'],
  displayName: row.display_name,
  language: row.language,
  passwordHash: row.password_hash,
  signIn: { failures: row.failures, lockedUntil: row.locked_until ?? undefined },
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

  async saveSignInState(userId: string, state: SignInState): Promise<void> {
    await this.#pool.query('update gateway.users set failures = $2, locked_until = $3 where user_id = $1', [
      userId,
      state.failures,
      state.lockedUntil?.toISOString() ?? null,
    ]);
  }

  async recordFailure(userId: string, now: Date, policy: LockoutPolicy): Promise<void> {
    await this.#pool.query(
      `update gateway.users set
         failures = case when failures + 1 >= $3 then 0 else failures + 1 end,
         locked_until = case when failures + 1 >= $3 then $2::timestamptz + $4 * interval '1 minute' else locked_until end
       where user_id = $1 and (locked_until is null or locked_until <= $2)`,
      [userId, now.toISOString(), policy.maxFailures, policy.lockMinutes],
    );
  }

  async upsert(user: Omit<UserRecord, 'signIn'>): Promise<void> {
    await this.#pool.query(
      `insert into gateway.users (user_id, agency_id, roles, display_name, language, password_hash)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (user_id) do update set agency_id = excluded.agency_id, roles = excluded.roles,
         display_name = excluded.display_name`,
      [user.userId, user.agencyId, user.roles, user.displayName, user.language, user.passwordHash],
    );
  }

  async createSession(idHash: Buffer, userId: string, csrfToken: string, expiresAt: Date): Promise<void> {
    await this.#pool.query(
      'insert into gateway.sessions (id_hash, user_id, csrf_token, expires_at) values ($1, $2, $3, $4)',
      [idHash, userId, csrfToken, expiresAt.toISOString()],
    );
  }

  async session(idHash: Buffer, now: Date): Promise<SessionRecord | undefined> {
    const { rows } = await this.#pool.query<UserRow & { csrf_token: string; expires_at: Date }>(
      `select u.*, s.csrf_token, s.expires_at from gateway.sessions s join gateway.users u using (user_id)
       where s.id_hash = $1 and s.revoked_at is null and s.expires_at > $2`,
      [idHash, now.toISOString()],
    );
    const row = rows[0];
    return row ? { user: userOf(row), csrfToken: row.csrf_token, expiresAt: row.expires_at } : undefined;
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
