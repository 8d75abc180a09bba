import type pg from 'pg';
import type { StoredEntry } from './verify-log.ts';

/**
 * What a verifier reads: every entry in seq order and every stored checkpoint note. Used by
 * the service's Verify and by the `passage audit verify` command, which reads the database
 * directly so that it need not trust the running service.
 */
export async function* storedEntries(db: pg.Pool | pg.Client, pageSize = 10_000): AsyncGenerator<StoredEntry> {
  let after = -1;
  for (;;) {
    const { rows } = await db.query<{ seq: string; entry: Buffer; leaf_hash: Buffer }>(
      'select seq, entry, leaf_hash from audit.entries where seq > $1 order by seq limit $2',
      [after, pageSize],
    );
    for (const row of rows) yield { seq: Number(row.seq), entry: row.entry, leafHash: row.leaf_hash };
    if (rows.length < pageSize) return;
    after = Number(rows.at(-1)!.seq);
  }
}

export async function storedCheckpointNotes(db: pg.Pool | pg.Client): Promise<string[]> {
  const { rows } = await db.query<{ note: string }>('select note from audit.checkpoints order by tree_size');
  return rows.map((row) => row.note);
}
