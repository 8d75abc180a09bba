import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { referrals as pb } from '@passage/contracts';
import { callUnary, type PassageError } from '@passage/platform';
import { grantConsent, referralScope, startNetwork, waitUntil, type Network } from './support.ts';

// A Send checks consent, then writes under the person's lock (docs/adr/0014-referrals-service.md,
// 0049-send-on-prepared-statements.md). A revocation handled in between — its ended scopes
// recorded under the same lock, as the consent-change consumer does — must be seen by the
// write: the referral cites only what still stands, or nothing is sent.

let n: Network;
let client: pb.ReferralServiceClient;
let holder: pg.Client;

beforeAll(async () => {
  n = await startNetwork('send-race');
  client = n.referrals!;
  holder = new pg.Client({ connectionString: n.db.url });
  await holder.connect();
});

afterAll(async () => {
  await holder?.end();
  await n?.stop();
});

const sendTo = (subjectRef: string) =>
  callUnary(
    client.send.bind(client),
    {
      idempotencyKey: randomUUID(),
      subjectRef,
      fromAgency: 'walk-with-me',
      toAgency: 'london-coalition',
      priority: pb.Priority.PRIORITY_STANDARD,
      needs: ['housing'],
      language: 'en',
      interpreterNeeded: false,
      packet: [
        { category: 'needs', content: "Synthetic housing need, with 'quotes' and \\ backslashes", withheld: false },
      ],
    },
    n.as('walk-with-me-worker'),
  ).then((r) => r.referral!);

/** A person whose consent has two scopes that each let London receive a referral. */
async function twoScopes(): Promise<{ subjectRef: string; consentId: string; scopeIds: string[] }> {
  const { subjectRef } = await grantConsent(n, 'walk-with-me-worker', [
    referralScope({ recipients: ['london-coalition'], categories: ['needs'] }),
    referralScope({ recipients: ['london-coalition'], categories: ['needs', 'identity'] }),
  ]);
  const [row] = (
    await n.sql.query<{ id: string; scopes: Array<{ id: string }> }>(
      'select id, scopes from consent.consents where subject_ref = $1',
      [subjectRef],
    )
  ).rows;
  expect(row?.scopes.length).toBe(2);
  return { subjectRef, consentId: row!.id, scopeIds: row!.scopes.map((s) => s.id) };
}

/** Sends while the test holds the person's lock; `meanwhile` runs once the Send waits on it. */
async function sendRacing(subjectRef: string, meanwhile: () => Promise<void>) {
  await holder.query(`select pg_advisory_lock(hashtext('referrals:' || $1))`, [subjectRef]);
  const sending = sendTo(subjectRef).then(
    (referral) => ({ referral }),
    (error: unknown) => ({ error: error as PassageError }),
  );
  try {
    // The Send has asked consent and now waits for the lock.
    await waitUntil(
      async () =>
        (
          await n.sql.query<{ waiting: number }>(
            `select count(*)::int as waiting from pg_locks l join pg_database d on d.oid = l.database
             where l.locktype = 'advisory' and not l.granted and d.datname = current_database()`,
          )
        ).rows[0]!.waiting > 0,
    );
    await meanwhile();
  } finally {
    await holder.query(`select pg_advisory_unlock(hashtext('referrals:' || $1))`, [subjectRef]);
  }
  return sending;
}

const referralsOf = async (subjectRef: string) =>
  (
    await n.sql.query<{ n: number }>('select count(*)::int as n from referrals.referrals where subject_ref = $1', [
      subjectRef,
    ])
  ).rows[0]!.n;

it('sends under the scope still standing when another ended between the consent check and the write', async () => {
  const { subjectRef, consentId, scopeIds } = await twoScopes();
  const outcome = await sendRacing(subjectRef, async () => {
    await holder.query('insert into referrals.ended_grants (consent_id, scope_id) values ($1, $2)', [
      consentId,
      scopeIds[0],
    ]);
  });
  expect(outcome).toHaveProperty('referral');
  const { referral } = outcome as { referral: pb.Referral };
  const [stored] = (
    await n.sql.query<{ grants: Array<{ scopeId: string }> }>('select grants from referrals.referrals where id = $1', [
      referral.id,
    ])
  ).rows;
  expect(stored?.grants.map((g) => g.scopeId)).toEqual([scopeIds[1]]);
});

it('sends nothing when the whole consent ended between the consent check and the write', async () => {
  const { subjectRef, consentId } = await twoScopes();
  const outcome = await sendRacing(subjectRef, async () => {
    await holder.query(`insert into referrals.ended_grants (consent_id, scope_id) values ($1, '*')`, [consentId]);
  });
  expect(outcome).toHaveProperty('error');
  const { error } = outcome as { error: PassageError };
  expect(error.code).toBe('failed_precondition');
  expect(error.message).toContain('just withdrawn; nothing was sent');
  expect(await referralsOf(subjectRef)).toBe(0);
  const outbox = await n.sql.query<{ n: number }>(
    `select count(*)::int as n from referrals.idempotency_keys where result->>'subjectRef' = $1`,
    [subjectRef],
  );
  expect(outbox.rows[0]!.n).toBe(0);
});

it('keeps what was typed, quotes and backslashes included, through the write', async () => {
  const { subjectRef } = await twoScopes();
  const referral = await sendTo(subjectRef);
  const { packet } = await callUnary(
    client.get.bind(client),
    { referralId: referral.id, purpose: '' },
    n.as('london-intake'),
  );
  expect(packet.length).toBeGreaterThan(0);
  expect(packet.find((s) => s.category === 'needs')?.content).toBe(
    "Synthetic housing need, with 'quotes' and \\ backslashes",
  );
});
