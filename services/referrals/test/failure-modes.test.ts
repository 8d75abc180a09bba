import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { directory as dpb, referrals as pb } from '@passage/contracts';
import { failureOf } from '@passage/testing';
import { callUnary, type PassageError } from '@passage/platform';
import { grantConsent, referralScope, startNetwork, waitUntil, type Network } from './support.ts';

let n: Network;
let client: pb.ReferralServiceClient;

beforeAll(async () => {
  n = await startNetwork('failures');
  client = n.referrals!;
});

afterAll(async () => {
  await n?.stop();
});

const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);

async function consentFor(recipient: string): Promise<string> {
  const granted = await grantConsent(n, 'walk-with-me-worker', [
    referralScope({ recipients: [recipient], categories: ['identity', 'needs'] }),
  ]);
  return granted.subjectRef;
}

const sendTo = (subjectRef: string, toAgency: string) =>
  callUnary(
    client.send.bind(client),
    {
      idempotencyKey: randomUUID(),
      subjectRef,
      fromAgency: 'walk-with-me',
      toAgency,
      priority: pb.Priority.PRIORITY_STANDARD,
      needs: ['housing'],
      language: 'en',
      interpreterNeeded: false,
      packet: [
        { category: 'identity', content: 'Synthetic Person Wvxq', withheld: false },
        { category: 'needs', content: 'Synthetic housing need', withheld: false },
      ],
    },
    n.as('walk-with-me-worker'),
  ).then((r) => r.referral!);

it('refuses to send to an agency that is not accepting referrals, and stores nothing', async () => {
  const subjectRef = await consentFor('windsor-essex-ahtag');
  const directory = new dpb.DirectoryServiceClient(n.directory.address, n.credentials);
  const { agency } = await callUnary(directory.getAgency.bind(directory), { id: 'windsor-essex-ahtag' });
  await callUnary(
    directory.upsertAgency.bind(directory),
    { agency: { ...agency!, acceptingReferrals: false } },
    n.as('admin'),
  );
  directory.close();
  // The referrals service keeps directory facts for a few seconds: a send while it still
  // holds the old ones goes through, so what is counted is what the refused send stored.
  await waitUntil(async () => {
    const error = await failure(sendTo(subjectRef, 'windsor-essex-ahtag')).catch(() => undefined);
    return error?.code === 'failed_precondition';
  });
  const stored = async () =>
    (
      await n.sql.query<{ n: number }>(
        'select count(*)::int as n from referrals.referrals where to_agency = $1 and subject_ref = $2',
        ['windsor-essex-ahtag', subjectRef],
      )
    ).rows[0]!.n;
  const before = await stored();
  const refused = await failure(sendTo(subjectRef, 'windsor-essex-ahtag'));
  expect(refused.code).toBe('failed_precondition');
  expect(refused.message).toContain('windsor-essex-ahtag is not accepting referrals');
  expect(await stored()).toBe(before);
});

it('erasing the subject withdraws the referral and destroys its packet', async () => {
  const subjectRef = await consentFor('sarnia-lambton-committee');
  const sent = await sendTo(subjectRef, 'sarnia-lambton-committee');
  await callUnary(
    n.consent.eraseSubject.bind(n.consent),
    { idempotencyKey: randomUUID(), subjectRef, reason: 'person_requested_erasure' },
    n.as('admin'),
  );
  await waitUntil(async () => {
    const { rows } = await n.sql.query('select state, reason from referrals.referrals where id = $1', [sent.id]);
    return rows[0].state === 'withdrawn';
  });
  const { rows } = await n.sql.query(
    `select (select count(*)::int from referrals.packets where referral_id = $1) as packets,
            (select count(*)::int from referrals_keys.subject_keys where subject_id = $2 and wrapped_key is not null) as keys,
            (select reason from referrals.referrals where id = $1) as reason`,
    [sent.id, subjectRef],
  );
  expect(rows[0]).toEqual({ packets: 0, keys: 0, reason: 'consent_revoked' });
  const view = await callUnary(client.get.bind(client), { referralId: sent.id, purpose: '' }, n.as('sarnia-intake'));
  expect(view.packet).not.toHaveLength(0);
  expect(view.packet.every((s) => s.withheld)).toBe(true);
});

it('fails closed with UNAVAILABLE when consent cannot be asked', async () => {
  const subjectRef = await consentFor('london-coalition');
  const sent = await sendTo(subjectRef, 'london-coalition');
  await n.consentService.shutdown.run();
  const read = await failure(
    callUnary(client.get.bind(client), { referralId: sent.id, purpose: '' }, n.as('london-intake')),
  );
  expect(read.code).toBe('unavailable');
  const send = await failure(sendTo(subjectRef, 'london-coalition'));
  expect(send.code).toBe('unavailable');
});
