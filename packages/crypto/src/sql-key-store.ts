import type { EntityManager } from '@mikro-orm/postgresql';
import type { SubjectKeyStore } from './subject-crypto.ts';

function quote(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unsafe schema name "${schema}"`);
  return `"${schema}"`;
}

/** The table each service that stores personal data keeps its subjects' wrapped keys in. */
export function subjectKeyTableSql(schema: string): string {
  return `create table ${quote(schema)}.subject_keys (
    subject_id uuid primary key,
    kek_id text not null,
    wrapped_key bytea not null,
    created_at timestamptz not null default now()
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

  async get(subjectId: string): Promise<{ kekId: string; wrappedKey: Buffer } | undefined> {
    const [row] = await this.#em.execute<{ kek_id: string; wrapped_key: Buffer }[]>(
      `select kek_id, wrapped_key from ${this.#table} where subject_id = ?`,
      [subjectId],
    );
    return row ? { kekId: row.kek_id, wrappedKey: row.wrapped_key } : undefined;
  }

  async insertIfAbsent(
    subjectId: string,
    kekId: string,
    wrappedKey: Buffer,
  ): Promise<{ kekId: string; wrappedKey: Buffer }> {
    await this.#em.execute(
      `insert into ${this.#table} (subject_id, kek_id, wrapped_key) values (?, ?, ?) on conflict (subject_id) do nothing`,
      [subjectId, kekId, wrappedKey],
    );
    const stored = await this.get(subjectId);
    if (!stored) throw new Error(`subject key for ${subjectId} vanished while it was being created`);
    return stored;
  }

  async delete(subjectId: string): Promise<boolean> {
    const deleted = await this.#em.execute<{ subject_id: string }[]>(
      `delete from ${this.#table} where subject_id = ? returning subject_id`,
      [subjectId],
    );
    return deleted.length > 0;
  }
}
