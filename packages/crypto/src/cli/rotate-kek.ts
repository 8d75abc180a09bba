// rotate-kek: re-wraps every subject data key under the current KEK.
//   PASSAGE_KEK="<new id>:<new key>,<old id>:<old key>" DATABASE_URL=… \
//     pnpm -C packages/crypto rotate-kek consent referrals
// Afterwards the old key may be dropped from PASSAGE_KEK.
import { parseKeyRing } from '../keyring.ts';
import { rotateKek } from '../rotate.ts';

const schemas = process.argv.slice(2);
const kek = process.env['PASSAGE_KEK'];
const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@localhost:5432/passage';
if (!kek || schemas.length === 0) {
  console.error('usage: PASSAGE_KEK="<new>,<old>…" DATABASE_URL=… rotate-kek <schema> [<schema>…]');
  process.exit(2);
}
const keyRing = parseKeyRing(kek);
for (const schema of schemas) {
  const count = await rotateKek(databaseUrl, schema, keyRing);
  console.log(`${schema}: ${count} data key(s) re-wrapped under ${keyRing.current.id}`);
}
