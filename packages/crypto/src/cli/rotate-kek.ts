// rotate-kek: re-wraps every subject data key under the current KEK, in the key store of
// each service named, logged in as that key store's runtime role (passage_<service>_keys).
//   PASSAGE_KEK="<new id>:<new key>,<old id>:<old key>" KEYSTORE_DATABASE_URL=… \
//     pnpm -C packages/crypto rotate-kek consent
// KEYSTORE_DATABASE_URL defaults to DATABASE_URL. Outside development it is the named service's
// key-store login, so run it once per service; in development (PASSAGE_ENV=development) an
// admin URL serves them all. Afterwards the old key may be dropped from PASSAGE_KEK.
import { checkServiceLogin, createLogger, serviceLogins } from '@passage/platform';
import { keyStoreDatabase } from '../key-store.ts';
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
const log = createLogger('rotate-kek', 'warn');
for (const service of services) {
  const plan = keyStoreDatabase(service);
  const schema = plan.schema;
  const logins = await serviceLogins({
    databases: { service, schemas: [plan] },
    urls: { keys: databaseUrl },
    env: process.env['PASSAGE_ENV'],
    log,
  });
  const url = logins.url(schema);
  await checkServiceLogin(url, plan, 'KEYSTORE_DATABASE_URL');
  const count = await rotateKek(url, schema, keyRing);
  console.log(`${service} (${schema}): ${count} data key(s) re-wrapped under ${keyRing.current.id}`);
}
