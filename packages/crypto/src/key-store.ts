import { Migration } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/core';
import type pg from 'pg';
import {
  databasePool,
  openDatabase,
  serviceDatabaseUrl,
  untilAvailable,
  type Logger,
  type MikroORM,
} from '@passage/platform';
import { SqlSubjectKeyStore, subjectKeyTableSql, subjectVault, type SubjectVault } from './sql-key-store.ts';
import type { SubjectCrypto, SubjectKeyStore } from './subject-crypto.ts';

const identifier = /^[a-z_][a-z0-9_]*$/;

/**
 * The schema of a service's key store (`<service>_keys`), apart from the service's data and
 * owned by a role of its own (`passage_<service>_keys`), so that it is backed up, kept and
 * destroyed on a policy of its own (docs/adr/0023-key-store.md).
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

  /**
   * Moves the wrapped keys a data schema kept before the key store existed
   * (`<dataSchema>.subject_keys`) into the key store, then drops that table. Safe to run at
   * every start and by several instances at once: a no-op once the table is gone; a key the
   * key store already holds is kept, except that an erasure (tombstone) on either side wins.
   * Returns how many rows were moved.
   */
  async adoptKeysFrom(data: MikroORM, dataSchema: string, log?: Logger): Promise<number> {
    if (!identifier.test(dataSchema)) throw new Error(`unsafe schema name "${dataSchema}"`);
    const moved = await data.em.fork().transactional(async (em) => {
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`passage:move-subject-keys:${dataSchema}`]);
      const [table] = await em.execute<{ present: boolean }[]>('select to_regclass(?) is not null as present', [
        `"${dataSchema}".subject_keys`,
      ]);
      if (!table?.present) return -1;
      const rows = await em.execute<OldKeyRow[]>(
        `select subject_id, kek_id, wrapped_key, created_at, shredded_at from "${dataSchema}".subject_keys order by subject_id`,
      );
      for (let i = 0; i < rows.length; i += moveBatch) await this.#insertMoved(rows.slice(i, i + moveBatch));
      // Only once every key is committed in the key store: if this drop does not commit, the next start moves again.
      await em.execute(`drop table "${dataSchema}".subject_keys`);
      return rows.length;
    });
    if (moved >= 0) log?.info({ from: dataSchema, to: this.schema, keys: moved }, 'moved data keys to the key store');
    return Math.max(moved, 0);
  }

  async #insertMoved(rows: readonly OldKeyRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#pool.query(
      `insert into "${this.schema}".subject_keys as k (subject_id, kek_id, wrapped_key, created_at, shredded_at)
       values ${rows.map((_, i) => `($${5 * i + 1}, $${5 * i + 2}, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5})`).join(', ')}
       on conflict (subject_id) do update set wrapped_key = null, shredded_at = coalesce(k.shredded_at, excluded.shredded_at)
       where excluded.wrapped_key is null`,
      rows.flatMap((r) => [r.subject_id, r.kek_id, r.wrapped_key, r.created_at, r.shredded_at]),
    );
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

export interface KeyStoreOptions {
  /** `KEYSTORE_DATABASE_URL`, or the service's `DATABASE_URL` when the key store shares its cluster. */
  readonly url: string;
  /** The service whose data keys these are: the key store is `<service>_keys`. */
  readonly service: string;
  readonly log: Logger;
  readonly poolMax?: number;
}

/**
 * Opens a service's key store as its own role (`passage_<service>_keys`, made and checked by
 * serviceDatabaseUrl: it fails closed) and applies its migrations; waits with backoff while
 * Postgres is down. Key operations then go through a pg pool of its own, never through an
 * ORM whose transaction context a data transaction could lend it.
 */
export async function openKeyStore(options: KeyStoreOptions): Promise<KeyStore> {
  const schema = keyStoreSchema(options.service);
  const url = await untilAvailable(
    'Postgres (key store)',
    async () => {
      const asKeyStore = await serviceDatabaseUrl(options.url, schema, options.log);
      const orm = await openDatabase({
        url: asKeyStore,
        schema,
        entities: [],
        migrations: keyStoreMigrations(schema),
        poolMax: 1,
      });
      await orm.close(true);
      return asKeyStore;
    },
    options.log,
  );
  const pool = databasePool(
    url,
    { max: options.poolMax ?? 4, applicationName: `${options.service}-key-store` },
    options.log,
  );
  return new KeyStore(pool, schema);
}
