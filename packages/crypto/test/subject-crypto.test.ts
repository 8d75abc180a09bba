import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Migration } from '@mikro-orm/migrations';
import { createLogger, migrateServiceDatabases, withLogin, withParam } from '@passage/platform';
import { createTestDatabase, type TestDatabase } from '@passage/testing';
import {
  SqlSubjectKeyStore,
  SubjectCrypto,
  SubjectErasedError,
  newKekSetting,
  moveLegacyKeys,
  openKeyStore,
  parseKeyRing,
  rotateKek,
  shredded,
  subjectKeyTableSql,
  type KeyStore,
} from '../src/index.ts';

let db: TestDatabase;
let keyStore: KeyStore;
const log = createLogger('crypto-test', 'silent');
const oldKek = newKekSetting('k1');
const newKek = newKekSetting('k2');

beforeAll(async () => {
  db = await createTestDatabase('crypto');
  // Development: provisioned with the superuser URL, then reached as passage_vault_keys (ADR 28).
  keyStore = await openKeyStore({ url: db.url, service: 'vault', log, poolMax: 2, env: 'development' });
});

afterAll(async () => {
  await keyStore?.close();
  await db?.drop();
});

const subject = '0193a3c4-0000-7000-8000-000000000001';

describe('per-subject envelope encryption in the key store', () => {
  it('keeps the keys in <service>_keys, owned by a role of its own and reached by a login of its own', async () => {
    expect(keyStore.schema).toBe('vault_keys');
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      const { rows } = await sql.query(
        `select pg_get_userbyid(c.relowner) as owner,
                array(select p from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
                       where has_table_privilege('passage_vault_keys', c.oid, p)) as runtime
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'vault_keys' and c.relname = 'subject_keys'`,
      );
      // Keys are read, made and shredded in place (a tombstone), never deleted.
      expect(rows).toEqual([{ owner: 'passage_vault_keys_owner', runtime: ['SELECT', 'INSERT', 'UPDATE'] }]);
      await keyStore.keys().get(subject);
      const { rows: used } = await sql.query(
        `select distinct usename from pg_stat_activity where application_name = 'vault-key-store' and datname = $1`,
        [db.name],
      );
      expect(used).toEqual([{ usename: 'passage_vault_keys' }]);
    } finally {
      await sql.end();
    }
  });

  it('renews a subject key: what was sealed before no longer opens, new data does, and an erased subject stays erased', async () => {
    const crypto = new SubjectCrypto(parseKeyRing(oldKek));
    const store = keyStore.keys();
    const person = '0193a3c4-0000-7000-8000-0000000000b1';
    const before = await crypto.encrypt(store, person, 'identity', 'Synthetic Name Rnw');
    expect(await crypto.renew(store, person)).toBe(true);
    await expect(crypto.decrypt(store, person, 'identity', before)).rejects.toThrow();
    const after = await crypto.encrypt(store, person, 'identity', 'Synthetic Name Rnw');
    expect(await crypto.decrypt(store, person, 'identity', after)).toBe('Synthetic Name Rnw');
    // A subject never seen gets no key; an erased one keeps its tombstone.
    expect(await crypto.renew(store, '0193a3c4-0000-7000-8000-0000000000b2')).toBe(false);
    expect(await store.get('0193a3c4-0000-7000-8000-0000000000b2')).toBeUndefined();
    await crypto.shred(store, person);
    expect(await crypto.renew(store, person)).toBe(false);
    expect(await store.get(person)).toBe(shredded);
  });

  it('seals with the subject key, shreds it, and then nothing decrypts', async () => {
    const crypto = new SubjectCrypto(parseKeyRing(oldKek));
    const store = keyStore.keys();
    const sealed = await crypto.encrypt(store, subject, 'identity', 'Synthetic Name Zqx');
    expect(await crypto.decrypt(store, subject, 'identity', sealed)).toBe('Synthetic Name Zqx');
    expect(sealed.toString('utf8')).not.toContain('Synthetic');

    expect(await crypto.shred(store, subject)).toBe(true);
    expect(await crypto.shred(store, subject)).toBe(false);
    expect(await crypto.decrypt(store, subject, 'identity', sealed)).toBe(shredded);
  });

  it('re-wraps every data key under a new KEK, after which the old KEK can go', async () => {
    const before = new SubjectCrypto(parseKeyRing(oldKek));
    const subjects = ['0193a3c4-0000-7000-8000-000000000010', '0193a3c4-0000-7000-8000-000000000011'];
    const store = keyStore.keys();
    const sealed = await Promise.all(
      subjects.map((s) => before.encrypt(store, s, 'contact', `+1-555-01${s.slice(-2)}`)),
    );

    // As rotate-kek does: logged in as the key store's runtime role.
    const asKeyStore = withLogin(db.url, 'passage_vault_keys');
    const ring = parseKeyRing(`${newKek},${oldKek}`);
    expect(await rotateKek(asKeyStore, 'vault_keys', ring, 1)).toBe(2);
    expect(await rotateKek(asKeyStore, 'vault_keys', ring)).toBe(0);

    const after = new SubjectCrypto(parseKeyRing(newKek));
    expect(await after.decrypt(store, subjects[0]!, 'contact', sealed[0]!)).toBe('+1-555-0110');
    expect(await after.decrypt(store, subjects[1]!, 'contact', sealed[1]!)).toBe('+1-555-0111');
  });
});

describe('erasure is final', () => {
  it('refuses to create a new key for a shredded subject, even one never seen before', async () => {
    const crypto = new SubjectCrypto(parseKeyRing(newKek));
    const erased = '0193a3c4-0000-7000-8000-0000000000ee';
    const never = '0193a3c4-0000-7000-8000-0000000000ef';
    const store = keyStore.keys();
    await crypto.encrypt(store, erased, 'identity', 'Synthetic');
    expect(await crypto.shred(store, erased)).toBe(true);
    expect(await crypto.shred(store, never)).toBe(false);
    await expect(crypto.encrypt(store, erased, 'identity', 'again')).rejects.toBeInstanceOf(SubjectErasedError);
    await expect(crypto.encrypt(store, never, 'identity', 'again')).rejects.toBeInstanceOf(SubjectErasedError);
  });
});

class Migration20261128000000Legacy extends Migration {
  override up(): void {
    this.addSql(subjectKeyTableSql('vault'));
  }
}

describe('keys kept in a data schema before the key store', () => {
  it('are moved into the key store by the migration job, their old table dropped; erasures stay final', async () => {
    // A data schema as a service kept it before: its own subject_keys, written by its runtime role.
    await migrateServiceDatabases(
      {
        service: 'vault',
        schemas: [
          {
            schema: 'vault',
            migrations: [{ name: 'Migration20261128000000Legacy', class: Migration20261128000000Legacy }],
            grants: { subject_keys: ['select', 'insert', 'update'] },
          },
        ],
      },
      { admin: { data: db.url }, log },
    );
    const legacyPool = new pg.Pool({ connectionString: withLogin(db.url, 'passage_vault'), max: 1 });
    // The job's step acts as each schema's owner.
    const owners = (schema: string) => withParam(db.url, 'options', `-c role=passage_${schema}_owner`);
    try {
      const crypto = new SubjectCrypto(parseKeyRing(newKek));
      const legacy = new SqlSubjectKeyStore(legacyPool, 'vault');
      const kept = '0193a3c4-0000-7000-8000-0000000000a1';
      const erased = '0193a3c4-0000-7000-8000-0000000000a2';
      const sealed = await crypto.encrypt(legacy, kept, 'notes', 'Synthetic kept note');
      const gone = await crypto.encrypt(legacy, erased, 'notes', 'Synthetic erased note');
      expect(await crypto.shred(legacy, erased)).toBe(true);
      // The key store knew nothing of them yet.
      expect(await keyStore.keys().get(kept)).toBeUndefined();

      expect(await moveLegacyKeys(owners, 'vault', log)).toBe(2);
      const store = keyStore.keys();
      expect(await crypto.decrypt(store, kept, 'notes', sealed)).toBe('Synthetic kept note');
      expect(await crypto.decrypt(store, erased, 'notes', gone)).toBe(shredded);
      await expect(crypto.encrypt(store, erased, 'notes', 'again')).rejects.toBeInstanceOf(SubjectErasedError);
      const { rows } = await legacyPool.query(`select to_regclass('vault.subject_keys') is null as dropped`);
      expect(rows).toEqual([{ dropped: true }]);
      // At the next job there is nothing left to move.
      expect(await moveLegacyKeys(owners, 'vault', log)).toBe(0);
    } finally {
      await legacyPool.end();
    }
  });
});
