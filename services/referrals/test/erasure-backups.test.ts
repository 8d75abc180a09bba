import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { referrals as pb } from '@passage/contracts';
import { SubjectCrypto, openKeyStore, parseKeyRing, shredded, type KeyStore } from '@passage/crypto';
import { callUnary, createLogger } from '@passage/platform';
import { createTestDatabase, type TestDatabase } from '@passage/testing';
import { grantConsent, referralScope, startNetwork, waitUntil, type Network } from './support.ts';

// Erasure and backups (docs/adr/0023-key-store.md): a packet's key lives in the referrals key
// store (schema referrals_keys), not in the data a backup of referrals holds.

let n: Network;
let keyStore: KeyStore;
let restored: TestDatabase | undefined;
const dir = mkdtempSync(join(tmpdir(), 'referrals-backup-'));

beforeAll(async () => {
  n = await startNetwork('referrals-backups');
  keyStore = await openKeyStore({
    url: n.db.url,
    service: 'referrals',
    env: 'development',
    log: createLogger('test', 'silent'),
  });
});

afterAll(async () => {
  await keyStore?.close();
  await n?.stop();
  await restored?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function sendFor(identity: string) {
  const granted = await grantConsent(n, 'walk-with-me-worker', [
    referralScope({ recipients: ['sarnia-lambton-committee'], categories: ['identity', 'needs'] }),
  ]);
  const { referral } = await callUnary(
    n.referrals!.send.bind(n.referrals!),
    {
      idempotencyKey: randomUUID(),
      subjectRef: granted.subjectRef,
      fromAgency: 'walk-with-me',
      toAgency: 'sarnia-lambton-committee',
      priority: pb.Priority.PRIORITY_STANDARD,
      needs: ['housing'],
      language: 'en',
      interpreterNeeded: false,
      packet: [{ category: 'identity', content: identity, withheld: false }],
    },
    n.as('walk-with-me-worker'),
  );
  return { subjectRef: granted.subjectRef, referralId: referral!.id };
}

async function sealedIdentity(client: pg.Client, referralId: string): Promise<Buffer> {
  const { rows } = await client.query(
    `select sealed from referrals.packets where referral_id = $1 and category = 'identity'`,
    [referralId],
  );
  expect(rows).toHaveLength(1);
  return rows[0].sealed as Buffer;
}

it("an erased person's packets stay unreadable in a backup of the data taken before the erasure", async () => {
  const crypto = new SubjectCrypto(parseKeyRing(n.referralsEnv['PASSAGE_KEK']!));
  const erased = await sendFor('Synthetic Erased Person Kqv');
  const kept = await sendFor('Synthetic Kept Person Jzw');
  const field = (referralId: string) => `referral:${referralId}:identity`;
  // Before the erasure, the key store opens the packet.
  expect(
    await crypto.decrypt(
      keyStore.keys(),
      erased.subjectRef,
      field(erased.referralId),
      await sealedIdentity(n.sql, erased.referralId),
    ),
  ).toBe('Synthetic Erased Person Kqv');

  // The backup: a dump of the referrals service's data schema, taken before the erasure.
  const dump = join(dir, 'referrals.dump');
  execFileSync('pg_dump', ['--format=custom', '--schema=referrals', '--file', dump, '--dbname', n.db.url]);

  await callUnary(
    n.consent.eraseSubject.bind(n.consent),
    { subjectRef: erased.subjectRef, reason: 'person_requested_erasure', idempotencyKey: randomUUID() },
    n.as('admin'),
  );
  // Referrals learns of the erasure from consent's event and destroys its own key.
  await waitUntil(async () => (await keyStore.keys().get(erased.subjectRef)) === shredded);

  // The backup restored into a fresh database, next to the current key store.
  restored = await createTestDatabase('referrals-restored');
  execFileSync('pg_restore', ['--no-owner', '--no-privileges', '--dbname', restored.url, dump]);
  const copy = new pg.Client({ connectionString: restored.url });
  await copy.connect();
  try {
    const keys = await copy.query(
      `select table_schema, table_name from information_schema.columns where column_name = 'wrapped_key'`,
    );
    expect(keys.rows).toEqual([]);
    const erasedPacket = await sealedIdentity(copy, erased.referralId);
    const keptPacket = await sealedIdentity(copy, kept.referralId);
    expect(erasedPacket.includes(Buffer.from('Synthetic Erased'))).toBe(false);

    const store = keyStore.keys();
    expect(await crypto.decrypt(store, erased.subjectRef, field(erased.referralId), erasedPacket)).toBe(shredded);
    expect(await crypto.decrypt(store, kept.subjectRef, field(kept.referralId), keptPacket)).toBe(
      'Synthetic Kept Person Jzw',
    );
  } finally {
    await copy.end();
  }
});
