import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { consent as cpb, referrals as pb } from '@passage/contracts';
import { callUnary, type PassageError } from '@passage/platform';
import { failureOf } from '@passage/testing';
import { grantConsent, referralScope, startNetwork, type Network } from './support.ts';

let n: Network;
let client: pb.ReferralServiceClient;

beforeAll(async () => {
  n = await startNetwork('edges');
  client = n.referrals!;
});

afterAll(async () => {
  await n?.stop();
});

const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);
const step = (id: string) => ({ idempotencyKey: randomUUID(), referralId: id, expectedVersion: 0 });

async function consentAndSend(
  sender: 'crisis-counsellor' | 'peel-officer',
  fromAgency: string,
  extraScope?: cpb.Scope,
) {
  const { subjectRef } = await grantConsent(n, sender, [
    referralScope({ recipients: ['london-coalition'], categories: ['identity', 'needs', 'situation'] }),
    ...(extraScope ? [extraScope] : []),
  ]);
  const { referral } = await callUnary(
    client.send.bind(client),
    {
      idempotencyKey: randomUUID(),
      subjectRef,
      fromAgency,
      toAgency: 'london-coalition',
      priority: pb.Priority.PRIORITY_STANDARD,
      needs: ['counselling'],
      language: 'en',
      interpreterNeeded: false,
      packet: [{ category: 'needs', content: 'Synthetic need Kqzw', withheld: false }],
    },
    n.as(sender),
  );
  return referral!;
}

const declineNote = 'Synthetic: fears the trafficker knows our address';
const forSender = 'Synthetic: we cannot keep her safe here; please try Windsor';
const decline = (id: string, suggestedAgency = '') =>
  callUnary(
    client.decline.bind(client),
    { ...step(id), reason: 'safety_concern', note: declineNote, suggestedAgency, noteForSender: forSender },
    n.as('london-intake'),
  );

describe('notes, closed doors and odd input', () => {
  it("keeps a decline's internal note with the declining agency, under consent for the situation category; the sender gets the reason for the sender", async () => {
    const situationForCrisisLine = referralScope({ recipients: ['ontario-ht-crisis-line'], categories: ['situation'] });
    const fromCrisisLine = await consentAndSend('crisis-counsellor', 'ontario-ht-crisis-line', situationForCrisisLine);
    await decline(fromCrisisLine.id);
    // The sender may read the situation, yet the internal note is not its to read…
    const bySender = await callUnary(
      client.get.bind(client),
      { referralId: fromCrisisLine.id, purpose: '' },
      n.as('crisis-counsellor'),
    );
    expect(bySender.note).toBe('');
    // …what it is told is the reason for the sender, the thread's decline_reason message.
    const thread = await callUnary(
      client.listMessages.bind(client),
      { referralId: fromCrisisLine.id },
      n.as('crisis-counsellor'),
    );
    expect(thread.messages).toHaveLength(1);
    expect(thread.messages[0]).toMatchObject({
      kind: 'decline_reason',
      body: forSender,
      authorAgency: 'london-coalition',
      removed: false,
    });
    const byRecipient = await callUnary(
      client.get.bind(client),
      { referralId: fromCrisisLine.id, purpose: '' },
      n.as('london-intake'),
    );
    expect(byRecipient.note).toBe(declineNote);

    // A recipient without consent for the situation does not read even its own note.
    const { subjectRef } = await grantConsent(n, 'peel-officer', [
      referralScope({ recipients: ['london-coalition'], categories: ['needs'] }),
    ]);
    const { referral: noSituation } = await callUnary(
      client.send.bind(client),
      {
        idempotencyKey: randomUUID(),
        subjectRef,
        fromAgency: 'peel-regional-police',
        toAgency: 'london-coalition',
        priority: pb.Priority.PRIORITY_STANDARD,
        needs: ['counselling'],
        language: 'en',
        interpreterNeeded: false,
        packet: [{ category: 'needs', content: 'Synthetic need Kqzw', withheld: false }],
      },
      n.as('peel-officer'),
    );
    await decline(noSituation!.id);
    const ownWithout = await callUnary(
      client.get.bind(client),
      { referralId: noSituation!.id, purpose: '' },
      n.as('london-intake'),
    );
    expect(ownWithout.note).toBe('');
    const byPolice = await callUnary(
      client.get.bind(client),
      { referralId: noSituation!.id, purpose: '' },
      n.as('peel-officer'),
    );
    expect(byPolice.note).toBe('');
    expect(byPolice.packet).not.toHaveLength(0);
    expect(byPolice.packet.every((s) => s.withheld)).toBe(true);
  });

  it('gives the recipient nothing more of a referral it declined', async () => {
    const sent = await consentAndSend('crisis-counsellor', 'ontario-ht-crisis-line');
    const before = await callUnary(
      client.get.bind(client),
      { referralId: sent.id, purpose: '' },
      n.as('london-intake'),
    );
    expect(before.packet[0]).toMatchObject({ content: 'Synthetic need Kqzw', withheld: false });
    await decline(sent.id);
    const after = await callUnary(client.get.bind(client), { referralId: sent.id, purpose: '' }, n.as('london-intake'));
    expect(after.packet).toHaveLength(before.packet.length);
    expect(after.packet.every((s) => s.withheld && s.content === '')).toBe(true);
    // Its own internal note it still reads: its words, not the person's packet.
    expect(after.note).toBe(declineNote);
  });

  it('refuses a read by an auditor (lists and timelines only), free text as a suggested agency, contact without a time, and a second resend', async () => {
    const sent = await consentAndSend('crisis-counsellor', 'ontario-ht-crisis-line');
    expect(
      (await failure(callUnary(client.get.bind(client), { referralId: sent.id, purpose: '' }, n.as('auditor')))).code,
    ).toBe('permission_denied');
    const freeText = await failure(decline(sent.id, 'try her sister 519-555-0100'));
    expect(freeText.message).toMatch(/^suggestedAgency: /);
    await callUnary(client.accept.bind(client), step(sent.id), n.as('london-intake'));
    const noTime = await failure(
      callUnary(
        client.recordContact.bind(client),
        { ...step(sent.id), at: undefined, method: 'phone' },
        n.as('london-intake'),
      ),
    );
    expect(noTime.message).toMatch(/^at: /);

    const declined = await consentAndSend('crisis-counsellor', 'ontario-ht-crisis-line');
    await decline(declined.id);
    const resend = () =>
      callUnary(
        client.resend.bind(client),
        { idempotencyKey: randomUUID(), referralId: declined.id, toAgency: 'london-coalition', packet: [] },
        n.as('crisis-counsellor'),
      );
    // The first resend goes (consent covers London again); a second one is refused.
    await resend();
    expect((await failure(resend())).code).toBe('failed_precondition');
  });
});
