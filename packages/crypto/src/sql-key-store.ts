import type { EntityManager } from '@mikro-orm/postgresql';
import { shredded, type StoredKey, type SubjectCrypto, type SubjectKeyStore } from './subject-crypto.ts';

function quote(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unsafe schema name "${schema}"`);
  return `"${schema}"`;
}

/** The table each service that stores personal data keeps its subjects' wrapped keys in. */
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

/** Wrapped keys in `<schema>.subject_keys`, read and written in the caller's transaction. */
export class SqlSubjectKeyStore implements SubjectKeyStore {
  readonly #em: EntityManager;
  readonly #table: string;

  constructor(em: EntityManager, schema: string) {
    this.#em = em;
    this.#table = `${quote(schema)}.subject_keys`;
  }

  async get(subjectId: string): Promise<StoredKey | typeof shredded | undefined> {
    const [row] = await this.#em.execute<{ kek_id: string; wrapped_key: Buffer | null }[]>(
      `select kek_id, wrapped_key from ${this.#table} where subject_id = ?`,
      [subjectId],
    );
    if (!row) return undefined;
    return row.wrapped_key ? { kekId: row.kek_id, wrappedKey: row.wrapped_key } : shredded;
  }

  async insertIfAbsent(subjectId: string, kekId: string, wrappedKey: Buffer): Promise<StoredKey | typeof shredded> {
    await this.#em.execute(
      `insert into ${this.#table} (subject_id, kek_id, wrapped_key) values (?, ?, ?) on conflict (subject_id) do nothing`,
      [subjectId, kekId, wrappedKey],
    );
    const stored = await this.get(subjectId);
    if (!stored) throw new Error(`subject key for ${subjectId} vanished while it was being created`);
    return stored;
  }

  async delete(subjectId: string): Promise<boolean> {
    const destroyed = await this.#em.execute<{ subject_id: string }[]>(
      `update ${this.#table} set wrapped_key = null, shredded_at = now() where subject_id = ? and wrapped_key is not null returning subject_id`,
      [subjectId],
    );
    await this.#em.execute(
      `insert into ${this.#table} (subject_id, kek_id, wrapped_key, shredded_at) values (?, '', null, now()) on conflict (subject_id) do nothing`,
      [subjectId],
    );
    return destroyed.length > 0;
  }
}

/** A subject's encryption bound to one schema's key store, in the caller's transaction. */
export interface SubjectVault {
  encrypt(subjectId: string, field: string, plaintext: string): Promise<Buffer>;
  encryptAll(subjectId: string, fields: ReadonlyArray<{ field: string; plaintext: string }>): Promise<Buffer[]>;
  decrypt(subjectId: string, field: string, sealed: Buffer): Promise<string | typeof shredded>;
  shred(subjectId: string): Promise<boolean>;
}

export function sqlSubjectVault(crypto: SubjectCrypto, em: EntityManager, schema: string): SubjectVault {
  const store = new SqlSubjectKeyStore(em, schema);
  return {
    encrypt: (subjectId, field, plaintext) => crypto.encrypt(store, subjectId, field, plaintext),
    encryptAll: (subjectId, fields) => crypto.encryptAll(store, subjectId, fields),
    decrypt: (subjectId, field, sealed) => crypto.decrypt(store, subjectId, field, sealed),
    shred: (subjectId) => crypto.shred(store, subjectId),
  };
}
