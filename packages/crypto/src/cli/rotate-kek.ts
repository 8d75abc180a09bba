// rotate-kek: re-wraps every subject data key under the current KEK, in the key store of
// each service named, acting as that key store's own role.
//   PASSAGE_KEK="<new id>:<new key>,<old id>:<old key>" KEYSTORE_DATABASE_URL=… \
//     pnpm -C packages/crypto rotate-kek consent referrals
// KEYSTORE_DATABASE_URL defaults to DATABASE_URL. Afterwards the old key may be dropped from PASSAGE_KEK.
import { serviceDatabaseUrl } from '@passage/platform';
import { keyStoreSchema } from '../key-store.ts';
import { parseKeyRing } from '../keyring.ts';
import { rotateKek } from '../rotate.ts';

const services = process.argv.slice(2);
const kek = process.env['PASSAGE_KEK'];
const databaseUrl =
  process.env['KEYSTORE_DATABASE_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@localhost:5432/passage';
if (!kek || services.length === 0) {
  console.error('usage: PASSAGE_KEK="<new>,<old>…" KEYSTORE_DATABASE_URL=… rotate-kek <service> [<service>…]');
  process.exit(2);
}
const keyRing = parseKeyRing(kek);
for (const service of services) {
  const schema = keyStoreSchema(service);
  const count = await rotateKek(await serviceDatabaseUrl(databaseUrl, schema), schema, keyRing);
  console.log(`${service} (${schema}): ${count} data key(s) re-wrapped under ${keyRing.current.id}`);
}
