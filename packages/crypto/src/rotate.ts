import { databaseClient } from '@passage/platform';
import type { KeyRing } from './keyring.ts';
import { SubjectCrypto } from './subject-crypto.ts';

/**
 * Re-wraps every data key in `<schema>.subject_keys` (a service's key store, see
 * key-store.ts) not yet under the current KEK, in batches, each batch in its own transaction
 * with the rows locked. Data itself is not touched: only the wrapped keys change. Returns
 * how many keys were re-wrapped.
 */
export async function rotateKek(
  databaseUrl: string,
  schema: string,
  keyRing: KeyRing,
  batchSize = 500,
): Promise<number> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unsafe schema name "${schema}"`);
  const crypto = new SubjectCrypto(keyRing);
  const client = databaseClient(databaseUrl);
  await client.connect();
  let total = 0;
  try {
    for (;;) {
      await client.query('begin');
      const { rows } = await client.query<{ subject_id: string; kek_id: string; wrapped_key: Buffer }>(
        `select subject_id, kek_id, wrapped_key from "${schema}".subject_keys
         where kek_id <> $1 and wrapped_key is not null order by subject_id limit $2 for update skip locked`,
        [crypto.currentKekId, batchSize],
      );
      for (const row of rows) {
        const next = crypto.rewrap(row.subject_id, row.kek_id, row.wrapped_key);
        await client.query(`update "${schema}".subject_keys set kek_id = $2, wrapped_key = $3 where subject_id = $1`, [
          row.subject_id,
          next.kekId,
          next.wrappedKey,
        ]);
      }
      await client.query('commit');
      total += rows.length;
      if (rows.length < batchSize) return total;
    }
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
