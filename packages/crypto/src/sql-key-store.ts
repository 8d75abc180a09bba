import type pg from 'pg';
import { shredded, type StoredKey, type SubjectCrypto, type SubjectKeyStore } from './subject-crypto.ts';

function quote(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unsafe schema name "${schema}"`);
  return `"${schema}"`;
}

/** The table of wrapped data keys in a service's key store (`<service>_keys`, see key-store.ts). */
export function subjectKeyTableSql(schema: string): string {
  // A shredded subject keeps its row as a tombstone (no key, shredded_at set), so that a
  // write racing the erasure cannot quietly create a fresh key for the erased person.
  return `create table ${quote(schema)}.subject_keys (
    subject_id uuid primary key,
    kek_id text not null,
    wrapped_key bytea,
    created_at timestamptz not null default now(),
    shredded_at timestamptz,
    check ((wrapped_key is null) = (shredded_at is not null))
  )`;
}

/** What the key store's SQL runs on: a pg pool or client acting as the key store's role. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** A named statement: parsed and planned once per connection (the read on every seal and open). */
  query<R extends pg.QueryResultRow>(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<pg.QueryResult<R>>;
}

/**
 * Wrapped keys in `<schema>.subject_keys`, on the key store's own connections: each statement
 * commits on its own, never inside a data transaction.
 */
export class SqlSubjectKeyStore implements SubjectKeyStore {
  readonly #db: Queryable;
  readonly #table: string;

  constructor(db: Queryable, schema: string) {
    this.#db = db;
    this.#table = `${quote(schema)}.subject_keys`;
  }

  async get(subjectId: string): Promise<StoredKey | typeof shredded | undefined> {
    const { rows } = await this.#db.query<{ kek_id: string; wrapped_key: Buffer | null }>({
      name: `${this.#table}-get`,
      text: `select kek_id, wrapped_key from ${this.#table} where subject_id = $1`,
      values: [subjectId],
    });
    const [row] = rows;
    if (!row) return undefined;
    return row.wrapped_key ? { kekId: row.kek_id, wrappedKey: row.wrapped_key } : shredded;
  }

  async insertIfAbsent(subjectId: string, kekId: string, wrappedKey: Buffer): Promise<StoredKey | typeof shredded> {
    await this.#db.query(
      `insert into ${this.#table} (subject_id, kek_id, wrapped_key) values ($1, $2, $3) on conflict (subject_id) do nothing`,
      [subjectId, kekId, wrappedKey],
    );
    const stored = await this.get(subjectId);
    if (!stored) throw new Error(`subject key for ${subjectId} vanished while it was being created`);
    return stored;
  }

  async delete(subjectId: string): Promise<boolean> {
    // One statement, so no key can be created between the check and the tombstone: the key is
    // destroyed, or a tombstone is left for a subject never seen. xmax <> 0: the row was updated.
    const { rows } = await this.#db.query<{ destroyed: boolean }>(
      `insert into ${this.#table} as k (subject_id, kek_id, wrapped_key, shredded_at) values ($1, '', null, now())
       on conflict (subject_id) do update set wrapped_key = null, shredded_at = now() where k.wrapped_key is not null
       returning (xmax <> 0) as destroyed`,
      [subjectId],
    );
    return rows[0]?.destroyed ?? false;
  }

  async replace(subjectId: string, kekId: string, wrappedKey: Buffer): Promise<boolean> {
    const result = await this.#db.query(
      `update ${this.#table} set kek_id = $2, wrapped_key = $3, created_at = now()
       where subject_id = $1 and wrapped_key is not null`,
      [subjectId, kekId, wrappedKey],
    );
    return (result.rowCount ?? 0) > 0;
  }
}

/** A subject's encryption bound to one key store. */
export interface SubjectVault {
  encrypt(subjectId: string, field: string, plaintext: string): Promise<Buffer>;
  encryptAll(subjectId: string, fields: ReadonlyArray<{ field: string; plaintext: string }>): Promise<Buffer[]>;
  decrypt(subjectId: string, field: string, sealed: Buffer): Promise<string | typeof shredded>;
  shred(subjectId: string): Promise<boolean>;
  /** Replaces the subject's key: what was sealed before is shredded, the subject is not erased. */
  renew(subjectId: string): Promise<boolean>;
}

export function subjectVault(crypto: SubjectCrypto, store: SubjectKeyStore): SubjectVault {
  return {
    encrypt: (subjectId, field, plaintext) => crypto.encrypt(store, subjectId, field, plaintext),
    encryptAll: (subjectId, fields) => crypto.encryptAll(store, subjectId, fields),
    decrypt: (subjectId, field, sealed) => crypto.decrypt(store, subjectId, field, sealed),
    shred: (subjectId) => crypto.shred(store, subjectId),
    renew: (subjectId) => crypto.renew(store, subjectId),
  };
}
