import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referrals as pb } from '@passage/contracts';
import { SubjectCrypto, openKeyStore, parseKeyRing, shredded, type KeyStore } from '@passage/crypto';
import { callUnary, createLogger } from '@passage/platform';
import { grantConsent, referralScope, startNetwork, type Network } from './support.ts';

// The retention schedule of ended referrals (docs/adr/0033-retention.md): after
// REFERRAL_PACKET_RETENTION_DAYS (400 by default) a closed, declined or withdrawn referral's
// packet, notes and message bodies are destroyed, and the person's data key replaced once no referral of theirs
// still holds sealed data. Time is the service's clock, moved by the test.
let n: Network;
let keyStore: KeyStore;
let offsetMs = 0;
const day = 86_400_000;

beforeAll(async () => {
  n = await startNetwork('referrals-retention', { now: () => new Date(Date.now() + offsetMs) });
  keyStore = await openKeyStore({
    url: n.db.url,
    service: 'referrals',
    env: 'development',
    log: createLogger('t', 'silent'),
  });
});

afterAll(async () => {
  await keyStore?.close();
  await n?.stop();
});

async function send(subjectRef: string | undefined, identity: string) {
  const granted = subjectRef
    ? { subjectRef }
    : await grantConsent(n, 'walk-with-me-worker', [
        referralScope({ recipients: ['sarnia-lambton-committee'], categories: ['identity', 'situation'] }),
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

async function packets(referralId: string): Promise<Buffer[]> {
  const { rows } = await n.sql.query<{ sealed: Buffer }>(
    'select sealed from referrals.packets where referral_id = $1',
    [referralId],
  );
  return rows.map((row) => row.sealed);
}

/** Whether each of the referral's messages still holds its sealed body. */
async function messageBodies(referralId: string): Promise<boolean[]> {
  const { rows } = await n.sql.query<{ held: boolean }>(
    'select sealed is not null as held from referrals.messages where referral_id = $1 order by posted_at, id',
    [referralId],
  );
  return rows.map((r) => r.held);
}

async function row(referralId: string) {
  const { rows } = await n.sql.query<{
    state: string;
    note: Buffer | null;
    destroyed: Date | null;
    transitions: number;
  }>(
    `select state, note, packet_destroyed_at as destroyed,
            (select count(*)::int from referrals.transitions t where t.referral_id = r.id) as transitions
     from referrals.referrals r where id = $1`,
    [referralId],
  );
  return rows[0]!;
}

describe('retention of ended referrals', () => {
  it("destroys an ended referral's packet and notes after the retention, keeps its record, and retires the key once nothing needs it", async () => {
    const crypto = new SubjectCrypto(parseKeyRing(n.referralsEnv['PASSAGE_KEK']!));
    // Person A: one referral withdrawn, another still open. Person B: one referral declined, with a note.
    const withdrawn = await send(undefined, 'Synthetic Person Qzv');
    const open = await send(withdrawn.subjectRef, 'Synthetic Person Qzv');
    const declined = await send(undefined, 'Synthetic Person Wxk');
    await callUnary(
      n.referrals!.withdraw.bind(n.referrals!),
      { idempotencyKey: randomUUID(), referralId: withdrawn.referralId, reason: 'sent_in_error', expectedVersion: 1 },
      n.as('walk-with-me-worker'),
    );
    await callUnary(
      n.referrals!.decline.bind(n.referrals!),
      {
        idempotencyKey: randomUUID(),
        referralId: declined.referralId,
        reason: 'no_capacity',
        note: 'Synthetic note: no bed free this month',
        suggestedAgency: '',
        expectedVersion: 1,
        noteForSender: 'Synthetic reason for the sender Rtv',
      },
      n.as('sarnia-intake'),
    );
    await callUnary(
      n.referrals!.postMessage.bind(n.referrals!),
      { idempotencyKey: randomUUID(), referralId: declined.referralId, body: 'Synthetic reply Jhq' },
      n.as('walk-with-me-worker'),
    );
    expect(await messageBodies(declined.referralId)).toEqual([true, true]);
    const declinedSealed = (await packets(declined.referralId))[0]!;
    expect((await row(declined.referralId)).note).not.toBeNull();
    const field = `referral:${declined.referralId}:identity`;
    expect(await crypto.decrypt(keyStore.keys(), declined.subjectRef, field, declinedSealed)).toBe(
      'Synthetic Person Wxk',
    );
    const pruner = n.referralService!.maintenance.pruner;

    // Within the retention: nothing changes.
    offsetMs = 399 * day;
    await pruner.pruneOnce();
    expect(await packets(withdrawn.referralId)).toHaveLength(1);
    expect(await packets(declined.referralId)).toHaveLength(1);
    // The idempotency keys of those commands are long expired by then (7 days): gone.
    const { rows: keys } = await n.sql.query<{ n: number }>(
      'select count(*)::int as n from referrals.idempotency_keys',
    );
    expect(keys[0]!.n).toBe(0);

    offsetMs = 401 * day;
    const report = await pruner.pruneOnce();
    expect(report.leader).toBe(true);
    expect(report.deleted['referral_packets']).toBeGreaterThanOrEqual(2);

    // The ended referrals: no packet, no note; state, transitions and the time of destruction stay.
    for (const ended of [withdrawn, declined]) {
      expect(await packets(ended.referralId)).toEqual([]);
      const after = await row(ended.referralId);
      expect(after.note).toBeNull();
      expect(after.destroyed).toBeInstanceOf(Date);
      expect(after.transitions).toBe(2);
    }
    expect((await row(declined.referralId)).state).toBe('declined');
    // The thread's words went with the packet; who wrote when stays.
    expect(await messageBodies(declined.referralId)).toEqual([false, false]);
    const thread = await callUnary(
      n.referrals!.listMessages.bind(n.referrals!),
      { referralId: declined.referralId },
      n.as('walk-with-me-worker'),
    );
    expect(thread.messages).toHaveLength(2);
    expect(thread.messages.every((m) => m.removed && m.body === '')).toBe(true);

    // Person A's open referral keeps its packet and its key: the recipient still reads it.
    expect(await packets(open.referralId)).toHaveLength(1);
    const view = await callUnary(
      n.referrals!.get.bind(n.referrals!),
      { referralId: open.referralId, purpose: '' },
      n.as('sarnia-intake'),
    );
    expect(view.packet).toEqual([{ category: 'identity', content: 'Synthetic Person Qzv', withheld: false }]);

    // Person B's key was replaced: a copy of the old packet (a backup) no longer opens…
    const opened = await crypto.decrypt(keyStore.keys(), declined.subjectRef, field, declinedSealed).then(
      (text) => (text === shredded ? 'shredded' : text),
      () => 'unreadable',
    );
    expect(opened).toBe('unreadable');
    // …and B is not erased: a new referral for them can be sent and read.
    const later = await send(declined.subjectRef, 'Synthetic Person Wxk');
    const laterView = await callUnary(
      n.referrals!.get.bind(n.referrals!),
      { referralId: later.referralId, purpose: '' },
      n.as('sarnia-intake'),
    );
    expect(laterView.packet[0]!.content).toBe('Synthetic Person Wxk');

    // A second round finds nothing more to do.
    expect((await pruner.pruneOnce()).deleted['referral_packets']).toBe(0);
  });
});
