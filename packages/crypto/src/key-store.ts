import { Migration } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/core';
import type pg from 'pg';
import {
  checkServiceLogin,
  databaseClient,
  databasePool,
  isWorthWaitingFor,
  serviceLogins,
  untilAvailable,
  type Logger,
  type SchemaPlan,
} from '@passage/platform';
import { SqlSubjectKeyStore, subjectKeyTableSql, subjectVault, type SubjectVault } from './sql-key-store.ts';
import type { SubjectCrypto, SubjectKeyStore } from './subject-crypto.ts';

const identifier = /^[a-z_][a-z0-9_]*$/;

/**
 * The schema of a service's key store (`<service>_keys`), apart from the service's data and
 * reached through login roles of its own (`passage_<service>_keys`, owned by
 * `passage_<service>_keys_owner`), so that it is backed up, kept and destroyed on a policy
 * of its own (docs/adr/0023-key-store.md, docs/adr/0028-database-login-roles.md).
 */
export function keyStoreSchema(service: string): string {
  if (!identifier.test(service)) throw new Error(`unsafe service name "${service}"`);
  return `${service}_keys`;
}

function keyStoreMigrations(schema: string): MigrationObject[] {
  class Migration20261130000000SubjectKeys extends Migration {
    override up(): void {
      this.addSql(subjectKeyTableSql(schema));
    }
  }
  return [{ name: 'Migration20261130000000SubjectKeys', class: Migration20261130000000SubjectKeys }];
}

/**
 * What the migration job provisions for a service's key store: its schema, migrations and
 * the runtime role's grants — keys are read, created and shredded (a shred empties the row,
 * leaving a tombstone), never deleted.
 */
export function keyStoreDatabase(service: string): SchemaPlan {
  const schema = keyStoreSchema(service);
  return {
    schema,
    migrations: keyStoreMigrations(schema),
    grants: { subject_keys: ['select', 'insert', 'update'] },
    database: 'keys',
  };
}

/** Rows of wrapped keys moved per statement from a data schema's old `subject_keys`. */
const moveBatch = 200;

/**
 * A service's data keys, on connections of their own that act as the key store's role: the
 * service's data role cannot read them, and the key store's role reaches nothing else. Each
 * key operation commits on its own, apart from the caller's data transaction: a key created
 * for a write that then rolls back is left unused; a key destroyed is gone whether or not the
 * erasure's own transaction commits (retrying the erasure finds it gone and finishes).
 */
export class KeyStore {
  readonly schema: string;
  readonly #pool: pg.Pool;
  readonly #keys: SubjectKeyStore;

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool;
    this.schema = schema;
    this.#keys = new SqlSubjectKeyStore(pool, schema);
  }

  keys(): SubjectKeyStore {
    return this.#keys;
  }

  vault(crypto: SubjectCrypto): SubjectVault {
    return subjectVault(crypto, this.keys());
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

interface OldKeyRow {
  subject_id: string;
  kek_id: string;
  wrapped_key: Buffer | null;
  created_at: Date | string;
  shredded_at: Date | string | null;
}

/**
 * Moves the wrapped keys a data schema kept before the key store existed
 * (`<service>.subject_keys`) into the key store, then drops that table: a step of the
 * service's migration job, after the migrations, acting as the two schemas' owners. Safe to
 * run at every job and by several at once: a no-op once the table is gone; a key the key
 * store already holds is kept, except that an erasure (tombstone) on either side wins.
 * Returns how many rows were moved.
 */
export async function moveLegacyKeys(
  owners: (schema: string) => string,
  service: string,
  log?: Logger,
): Promise<number> {
  const dataSchema = service;
  const keysSchema = keyStoreSchema(service);
  const data = databaseClient(owners(dataSchema), { application_name: `${service}-move-keys` });
  const keys = databaseClient(owners(keysSchema), { application_name: `${service}-move-keys` });
  data.on('error', () => undefined);
  keys.on('error', () => undefined);
  await data.connect();
  try {
    await keys.connect();
    await data.query('begin');
    await data.query('select pg_advisory_xact_lock(hashtext($1))', [`passage:move-subject-keys:${dataSchema}`]);
    const { rows: table } = await data.query<{ present: boolean }>('select to_regclass($1) is not null as present', [
      `"${dataSchema}".subject_keys`,
    ]);
    if (!table[0]?.present) {
      await data.query('rollback');
      return 0;
    }
    const { rows } = await data.query<OldKeyRow>(
      `select subject_id, kek_id, wrapped_key, created_at, shredded_at from "${dataSchema}".subject_keys order by subject_id`,
    );
    for (let i = 0; i < rows.length; i += moveBatch) await insertMoved(keys, keysSchema, rows.slice(i, i + moveBatch));
    // Only once every key is committed in the key store: if this drop does not commit, the next run moves again.
    await data.query(`drop table "${dataSchema}".subject_keys`);
    await data.query('commit');
    log?.info({ from: dataSchema, to: keysSchema, keys: rows.length }, 'moved data keys to the key store');
    return rows.length;
  } catch (error) {
    await data.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await keys.end().catch(() => undefined);
    await data.end().catch(() => undefined);
  }
}

async function insertMoved(keys: pg.Client, schema: string, rows: readonly OldKeyRow[]): Promise<void> {
  if (rows.length === 0) return;
  await keys.query(
    `insert into "${schema}".subject_keys as k (subject_id, kek_id, wrapped_key, created_at, shredded_at)
     values ${rows.map((_, i) => `($${5 * i + 1}, $${5 * i + 2}, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5})`).join(', ')}
     on conflict (subject_id) do update set wrapped_key = null, shredded_at = coalesce(k.shredded_at, excluded.shredded_at)
     where excluded.wrapped_key is null`,
    rows.flatMap((r) => [r.subject_id, r.kek_id, r.wrapped_key, r.created_at, r.shredded_at]),
  );
}

export interface KeyStoreOptions {
  /**
   * The key store's runtime login (`passage_<service>_keys`): KEYSTORE_DATABASE_URL, or the
   * one the service's logins give. In development, an admin URL: the key store is then
   * provisioned as the migration job would, and reached as its runtime role.
   */
  readonly url: string;
  /** The service whose data keys these are: the key store is `<service>_keys`. */
  readonly service: string;
  readonly log: Logger;
  /** PASSAGE_ENV. */
  readonly env?: string | undefined;
  readonly poolMax?: number;
}

/**
 * Opens a service's key store as its own runtime login, checked as the service's is
 * (checkServiceLogin: it fails closed on a login that could do more, and waits, with a log
 * line per try, while Postgres is down or the migration job has not run). Key operations
 * then go through a pg pool of its own, never through an ORM whose transaction context a
 * data transaction could lend it.
 */
export async function openKeyStore(options: KeyStoreOptions): Promise<KeyStore> {
  const plan = keyStoreDatabase(options.service);
  const url = await untilAvailable(
    'Postgres and the migration job (key store)',
    async () => {
      const logins = await serviceLogins({
        databases: { service: options.service, schemas: [plan] },
        urls: { keys: options.url },
        env: options.env,
        log: options.log,
      });
      const login = logins.url(plan.schema);
      await checkServiceLogin(login, plan, 'KEYSTORE_DATABASE_URL');
      return login;
    },
    options.log,
    { retryable: isWorthWaitingFor },
  );
  const pool = databasePool(
    url,
    { max: options.poolMax ?? 4, applicationName: `${options.service}-key-store` },
    options.log,
  );
  return new KeyStore(pool, plan.schema);
}
