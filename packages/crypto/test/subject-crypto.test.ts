import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migration } from '@mikro-orm/migrations';
import { openDatabase, type MikroORM } from '@passage/platform';
import { createTestDatabase, type TestDatabase } from '@passage/testing';
import {
  SqlSubjectKeyStore,
  SubjectCrypto,
  SubjectErasedError,
  newKekSetting,
  parseKeyRing,
  rotateKek,
  shredded,
  subjectKeyTableSql,
} from '../src/index.ts';

class Migration20261128000000Vault extends Migration {
  override up(): void {
    this.addSql(subjectKeyTableSql('vault'));
  }
}

let db: TestDatabase;
let orm: MikroORM;
const oldKek = newKekSetting('k1');
const newKek = newKekSetting('k2');

beforeAll(async () => {
  db = await createTestDatabase('crypto');
  orm = await openDatabase({
    url: db.url,
    schema: 'vault',
    entities: [],
    migrations: [{ name: 'Migration20261128000000Vault', class: Migration20261128000000Vault }],
    poolMax: 2,
  });
});

afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

const subject = '0193a3c4-0000-7000-8000-000000000001';

describe('per-subject envelope encryption in Postgres', () => {
  it('seals with the subject key, shreds it, and then nothing decrypts', async () => {
    const crypto = new SubjectCrypto(parseKeyRing(oldKek));
    const sealed = await orm.em.fork().transactional(async (em) => {
      const store = new SqlSubjectKeyStore(em, 'vault');
      return crypto.encrypt(store, subject, 'identity', 'Synthetic Name Zqx');
    });
    const store = new SqlSubjectKeyStore(orm.em.fork(), 'vault');
    expect(await crypto.decrypt(store, subject, 'identity', sealed)).toBe('Synthetic Name Zqx');
    expect(sealed.toString('utf8')).not.toContain('Synthetic');

    expect(await crypto.shred(store, subject)).toBe(true);
    expect(await crypto.shred(store, subject)).toBe(false);
    expect(await crypto.decrypt(store, subject, 'identity', sealed)).toBe(shredded);
  });

  it('re-wraps every data key under a new KEK, after which the old KEK can go', async () => {
    const before = new SubjectCrypto(parseKeyRing(oldKek));
    const subjects = ['0193a3c4-0000-7000-8000-000000000010', '0193a3c4-0000-7000-8000-000000000011'];
    const sealed = await orm.em.fork().transactional(async (em) => {
      const store = new SqlSubjectKeyStore(em, 'vault');
      return Promise.all(subjects.map((s) => before.encrypt(store, s, 'contact', `+1-555-01${s.slice(-2)}`)));
    });

    expect(await rotateKek(db.url, 'vault', parseKeyRing(`${newKek},${oldKek}`), 1)).toBe(2);
    expect(await rotateKek(db.url, 'vault', parseKeyRing(`${newKek},${oldKek}`))).toBe(0);

    const after = new SubjectCrypto(parseKeyRing(newKek));
    const store = new SqlSubjectKeyStore(orm.em.fork(), 'vault');
    expect(await after.decrypt(store, subjects[0]!, 'contact', sealed[0]!)).toBe('+1-555-0110');
    expect(await after.decrypt(store, subjects[1]!, 'contact', sealed[1]!)).toBe('+1-555-0111');
  });
});

describe('erasure is final', () => {
  it('refuses to create a new key for a shredded subject, even one never seen before', async () => {
    const crypto = new SubjectCrypto(parseKeyRing(oldKek));
    const erased = '0193a3c4-0000-7000-8000-0000000000ee';
    const never = '0193a3c4-0000-7000-8000-0000000000ef';
    await orm.em.fork().transactional(async (em) => {
      const store = new SqlSubjectKeyStore(em, 'vault');
      await crypto.encrypt(store, erased, 'identity', 'Synthetic');
      expect(await crypto.shred(store, erased)).toBe(true);
      expect(await crypto.shred(store, never)).toBe(false);
    });
    const store = new SqlSubjectKeyStore(orm.em.fork(), 'vault');
    await expect(crypto.encrypt(store, erased, 'identity', 'again')).rejects.toBeInstanceOf(SubjectErasedError);
    await expect(crypto.encrypt(store, never, 'identity', 'again')).rejects.toBeInstanceOf(SubjectErasedError);
  });
});
