import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { referrals as pb } from '@passage/contracts';
import { Topology, decodeEnvelope, type Envelope } from '@passage/events';
import { failureOf, waitFor } from '@passage/testing';
import { callUnary, type PassageError } from '@passage/platform';
import { grantConsent, referralScope, startNetwork, waitUntil, type Network } from './support.ts';

// Messages on a referral (docs/adr/0039-referral-messages.md), against the real services,
// Postgres and NATS. Synthetic words only; each carries a marker grepped for in the raw bytes.
let n: Network;
let client: pb.ReferralServiceClient;

beforeAll(async () => {
  n = await startNetwork('messages');
  client = n.referrals!;
});

afterAll(async () => {
  await n?.stop();
});

const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);

async function sendOne() {
  const { subjectRef } = await grantConsent(n, 'peel-officer', [
    referralScope({ recipients: ['london-coalition'], categories: ['identity', 'needs', 'situation'] }),
  ]);
  const { referral } = await callUnary(
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
      packet: [{ category: 'needs', content: 'Synthetic need Vbn', withheld: false }],
    },
    n.as('peel-officer'),
  );
  return { subjectRef, referral: referral! };
}

const post = (referralId: string, body: string, user: Parameters<Network['as']>[0], key = randomUUID()) =>
  callUnary(client.postMessage.bind(client), { idempotencyKey: key, referralId, body }, n.as(user)).then(
    (r) => r.message!,
  );
const list = (referralId: string, user: Parameters<Network['as']>[0]) =>
  callUnary(client.listMessages.bind(client), { referralId }, n.as(user)).then((r) => r.messages);

/** Every message of a stream, raw bytes with the decoded envelope. */
async function streamMessages(
  area: 'referral' | 'audit',
): Promise<Array<{ subject: string; raw: Buffer; envelope: Envelope }>> {
  const nc = await connect({ servers: n.nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = new Topology(n.nats.namespace).stream(area).name;
    const { state } = await jsm.streams.info(stream);
    const out: Array<{ subject: string; raw: Buffer; envelope: Envelope }> = [];
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(stream, { seq });
      if (!message) continue;
      out.push({ subject: message.subject, raw: Buffer.from(message.data), envelope: decodeEnvelope(message.data) });
    }
    return out;
  } finally {
    await nc.close();
  }
}

const messageReads = async (referralId: string) =>
  (await streamMessages('audit'))
    .map((m) => m.envelope)
    .filter((e) => e.referralId === referralId && e.payload?.$case === 'accessRecorded')
    .map((e) => (e.payload?.$case === 'accessRecorded' ? { agency: e.actor!.agency, ...e.payload.value } : undefined))
    .filter((read) => read?.record === 'referral_messages');

describe('messages on a referral', () => {
  it('lets the two parties write and read, sealed, published as ids only, every read audited; no one else', async () => {
    const { referral } = await sendOne();
    const question = await post(referral.id, 'Synthetic question Xqj: is an interpreter needed?', 'london-intake');
    expect(question).toMatchObject({
      referralId: referral.id,
      authorAgency: 'london-coalition',
      authorUser: 'london-intake',
      authorRole: 'intake_worker',
      kind: 'message',
      removed: false,
    });
    const answerKey = randomUUID();
    const answer = await post(referral.id, 'Synthetic answer Wpk: yes, Arabic', 'peel-officer', answerKey);
    // A retry returns the first message; the same key for other words is refused.
    expect((await post(referral.id, 'Synthetic answer Wpk: yes, Arabic', 'peel-officer', answerKey)).id).toBe(
      answer.id,
    );
    expect((await failure(post(referral.id, 'Other words', 'peel-officer', answerKey))).code).toBe('invalid_argument');

    for (const party of ['london-intake', 'peel-officer'] as const) {
      const thread = await list(referral.id, party);
      expect(thread.map((m) => [m.id, m.body, m.authorAgency])).toEqual([
        [question.id, 'Synthetic question Xqj: is an interpreter needed?', 'london-coalition'],
        [answer.id, 'Synthetic answer Wpk: yes, Arabic', 'peel-regional-police'],
      ]);
    }

    // Another agency: the referral does not exist for it, to write or to read; an auditor may not read it.
    expect((await failure(post(referral.id, 'Synthetic intrusion', 'windsor-intake'))).code).toBe('not_found');
    expect((await failure(list(referral.id, 'windsor-intake'))).code).toBe('not_found');
    expect((await failure(list(referral.id, 'auditor'))).code).toBe('permission_denied');
    expect((await failure(post(referral.id, '   ', 'london-intake'))).code).toBe('invalid_argument');

    // Each read recorded: the two parties' granted, the other agency's refused.
    const reads = await waitFor(
      () => messageReads(referral.id),
      (found) => found.length >= 3,
    );
    expect(reads.map((r) => [r!.agency, r!.outcome, r!.reason])).toEqual([
      ['london-coalition', 'granted', ''],
      ['peel-regional-police', 'granted', ''],
      ['windsor-essex-ahtag', 'denied', 'not_a_party'],
    ]);

    // The event: referral.v1.<from>.<to>.message_posted, ids only.
    const posted = await waitFor(
      async () => (await streamMessages('referral')).filter((m) => m.envelope.referralId === referral.id),
      (found) => found.filter((m) => m.subject.endsWith('.message_posted')).length === 2,
    );
    const events = posted.filter((m) => m.subject.endsWith('.message_posted'));
    expect(events).not.toHaveLength(0);
    expect(events[0]!.subject).toBe(
      `${n.nats.namespace}.referral.v1.peel-regional-police.london-coalition.message_posted`,
    );
    expect(events.map((m) => m.envelope.payload)).toEqual([
      {
        $case: 'messagePosted',
        value: {
          referralId: referral.id,
          messageId: question.id,
          authorAgency: 'london-coalition',
          postedAt: question.postedAt,
        },
      },
      {
        $case: 'messagePosted',
        value: {
          referralId: referral.id,
          messageId: answer.id,
          authorAgency: 'peel-regional-police',
          postedAt: answer.postedAt,
        },
      },
    ]);

    // Nowhere in clear: not in NATS (either stream, raw bytes), not in the database (a dump of its data).
    const everything = [...(await streamMessages('referral')), ...(await streamMessages('audit'))];
    expect(everything).not.toHaveLength(0);
    for (const { raw } of everything) {
      expect(raw.includes(Buffer.from('Xqj'))).toBe(false);
      expect(raw.includes(Buffer.from('Wpk'))).toBe(false);
    }
    const dump = execFileSync('pg_dump', ['--data-only', '--schema=referrals', '--dbname', n.db.url], {
      maxBuffer: 64 * 1024 * 1024,
    }).toString('latin1');
    expect(dump).toContain(question.id);
    expect(dump).not.toMatch(/Xqj|Wpk|interpreter needed/);
  });

  it("keeps a withdrawn referral's thread from the recipient and takes no more messages on it", async () => {
    const { referral } = await sendOne();
    await post(referral.id, 'Synthetic note Lmv before the withdrawal', 'london-intake');
    await callUnary(
      client.withdraw.bind(client),
      { idempotencyKey: randomUUID(), referralId: referral.id, reason: 'sent_in_error', expectedVersion: 0 },
      n.as('peel-officer'),
    );
    const atRecipient = await list(referral.id, 'london-intake');
    expect(atRecipient).toHaveLength(1);
    expect(atRecipient[0]).toMatchObject({ body: '', removed: true });
    expect((await list(referral.id, 'peel-officer'))[0]!.body).toBe('Synthetic note Lmv before the withdrawal');
    expect((await failure(post(referral.id, 'Synthetic late word', 'peel-officer'))).code).toBe('failed_precondition');
  });

  it("makes the messages unreadable once the person's data is erased", async () => {
    const { subjectRef, referral } = await sendOne();
    await post(referral.id, 'Synthetic question Erz', 'london-intake');
    await post(referral.id, 'Synthetic answer Erz', 'peel-officer');
    expect((await list(referral.id, 'peel-officer')).map((m) => m.body)).toEqual([
      'Synthetic question Erz',
      'Synthetic answer Erz',
    ]);
    await callUnary(
      n.consent.eraseSubject.bind(n.consent),
      { subjectRef, reason: 'person_requested_erasure', idempotencyKey: randomUUID() },
      n.as('admin'),
    );
    // Referrals learns of the erasure from consent's event: the bodies are dropped and the key destroyed.
    await waitUntil(async () => {
      const { rows } = await n.sql.query<{ held: number }>(
        'select count(sealed)::int as held from referrals.messages where referral_id = $1',
        [referral.id],
      );
      return rows[0]!.held === 0;
    });
    const thread = await list(referral.id, 'peel-officer');
    expect(thread).toHaveLength(2);
    expect(thread.every((m) => m.removed && m.body === '')).toBe(true);
    expect((await failure(post(referral.id, 'Synthetic after erasure', 'peel-officer'))).code).toBe(
      'failed_precondition',
    );
  });
});
