import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { consent as pb } from '@passage/contracts';
import { ontarioAgencies } from '@passage/directory/seed';
import { SubjectCrypto, openKeyStore, parseKeyRing, shredded, type KeyStore } from '@passage/crypto';
import { callUnary, createLogger, withLogin } from '@passage/platform';
import { createTestDatabase, type TestDatabase } from '@passage/testing';
import { startConsentHarness, waitUntil, type ConsentHarness } from './support.ts';

// Erasure and backups (docs/adr/0023-key-store.md): the data keys live in the key store
// (schema consent_keys, role passage_consent_keys), not in the data a backup of consent holds.

let h: ConsentHarness;
let sql: pg.Client;
let keyStore: KeyStore;
let restored: TestDatabase | undefined;
const dir = mkdtempSync(join(tmpdir(), 'consent-backup-'));
const log = createLogger('consent-backups-test', 'silent');

beforeAll(async () => {
  h = await startConsentHarness('consent-backups');
  sql = new pg.Client({ connectionString: h.db.url });
  await sql.connect();
  await waitUntil(
    async () =>
      (await sql.query('select count(*)::int as n from consent.agencies')).rows[0].n === ontarioAgencies.length,
  );
  // The current key store, as the consent service reaches it.
  keyStore = await openKeyStore({ url: h.db.url, service: 'consent', env: 'development', log });
});

afterAll(async () => {
  await keyStore?.close();
  await sql?.end();
  await h?.stop();
  await restored?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const grant = (name: string, notes: string) =>
  callUnary(
    h.client.grant.bind(h.client),
    pb.GrantRequest.fromPartial({
      idempotencyKey: randomUUID(),
      method: pb.CaptureMethod.CAPTURE_METHOD_VERBAL,
      language: 'en',
      expiresAt: new Date(Date.now() + 90 * 86_400_000),
      scopes: [{ recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['identity'] }],
      receiptName: name,
      notes,
    }),
    h.as('peel-officer'),
  );

async function sealedFields(client: pg.Client, consentId: string) {
  const { rows } = await client.query('select receipt_name, notes from consent.consents where id = $1', [consentId]);
  expect(rows).toHaveLength(1);
  return rows[0] as { receipt_name: Buffer; notes: Buffer };
}

it('an erased person stays unreadable in a backup of the data taken before the erasure; others still open', async () => {
  const crypto = new SubjectCrypto(parseKeyRing(h.kek));
  const erased = await grant('Synthetic Erased Qvx', 'Synthetic notes Qvx');
  const kept = await grant('Synthetic Kept Wyz', 'Synthetic notes Wyz');
  const field = (consentId: string, name: string) => `consent:${consentId}:${name}`;
  // Before the erasure, the key store opens the person's data.
  const live = await sealedFields(sql, erased.consentId);
  expect(
    await crypto.decrypt(
      keyStore.keys(),
      erased.subjectRef,
      field(erased.consentId, 'receipt_name'),
      live.receipt_name,
    ),
  ).toBe('Synthetic Erased Qvx');

  // The backup: a dump of the consent service's data schema, taken before the erasure.
  const dump = join(dir, 'consent.dump');
  execFileSync('pg_dump', ['--format=custom', '--schema=consent', '--file', dump, '--dbname', h.db.url]);

  await callUnary(
    h.client.eraseSubject.bind(h.client),
    { subjectRef: erased.subjectRef, reason: 'person_requested_erasure', idempotencyKey: randomUUID() },
    h.as('admin'),
  );

  // The backup restored into a fresh database, next to the current key store.
  restored = await createTestDatabase('consent-restored');
  execFileSync('pg_restore', ['--no-owner', '--no-privileges', '--dbname', restored.url, dump]);
  const copy = new pg.Client({ connectionString: restored.url });
  await copy.connect();
  try {
    // The restored data holds ciphertext and no key of anyone's: not in any table.
    const keys = await copy.query(
      `select table_schema, table_name from information_schema.columns where column_name = 'wrapped_key'`,
    );
    expect(keys.rows).toEqual([]);
    const erasedSealed = await sealedFields(copy, erased.consentId);
    const keptSealed = await sealedFields(copy, kept.consentId);
    expect(erasedSealed.receipt_name.includes(Buffer.from('Synthetic Erased'))).toBe(false);

    const store = keyStore.keys();
    expect(
      await crypto.decrypt(
        store,
        erased.subjectRef,
        field(erased.consentId, 'receipt_name'),
        erasedSealed.receipt_name,
      ),
    ).toBe(shredded);
    expect(await crypto.decrypt(store, erased.subjectRef, field(erased.consentId, 'notes'), erasedSealed.notes)).toBe(
      shredded,
    );
    // Another person's data in the same backup still opens.
    expect(
      await crypto.decrypt(store, kept.subjectRef, field(kept.consentId, 'receipt_name'), keptSealed.receipt_name),
    ).toBe('Synthetic Kept Wyz');
    expect(await crypto.decrypt(store, kept.subjectRef, field(kept.consentId, 'notes'), keptSealed.notes)).toBe(
      'Synthetic notes Wyz',
    );
  } finally {
    await copy.end();
  }
});

it("the service's data login cannot read the key store, and the key store's login reaches nothing else", async () => {
  await grant('Synthetic Role Check', 'Synthetic notes');
  const denied = async (url: string, query: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const error = await client.query(query).then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      return error?.code;
    } finally {
      await client.end();
    }
  };
  const asData = withLogin(h.db.url, 'passage_consent');
  const asKeys = withLogin(h.db.url, 'passage_consent_keys');
  // Both work as their own login role…
  expect(await denied(asData, 'select count(*) from consent.consents')).toBeUndefined();
  expect(await denied(asKeys, 'select count(*) from consent_keys.subject_keys')).toBeUndefined();
  // …and neither reaches the other's schema, nor another service's (42501: permission denied).
  expect(await denied(asData, 'select count(*) from consent_keys.subject_keys')).toBe('42501');
  expect(await denied(asKeys, 'select count(*) from consent.consents')).toBe('42501');
  expect(await denied(asKeys, 'select count(*) from directory.agencies')).toBe('42501');
  // RESET ROLE changes nothing: each logs in as itself, a member of no other role.
  expect(await denied(asData, 'reset role; select count(*) from consent_keys.subject_keys')).toBe('42501');
  expect(await denied(asKeys, 'set role passage_consent')).toBe('42501');
});
