import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Caller } from '@passage/auth';
import { referrals as pb } from '@passage/contracts';
import { Topology, decodeEnvelope } from '@passage/events';
import { failureOf, waitFor } from '@passage/testing';
import { callUnary, type PassageError } from '@passage/platform';
import { stateFromWire } from '../src/adapters/grpc/mapping.ts';
import { compareRanked, listRank, type Ranked } from '../src/domain/list-order.ts';
import { parseReference, receiptReference } from '@passage/vocabulary';
import type { Referral } from '../src/domain/referral.ts';
import { grantConsent, referralScope, startNetwork, type Network } from './support.ts';

// Synthetic packet contents only.
const packet = [{ category: 'needs', content: 'Synthetic: safe housing', withheld: false }];
const counsellor: Caller = { userId: 'london-counsellor', agencyId: 'london-coalition', roles: ['intake_worker'] };

let n: Network;
let client: pb.ReferralServiceClient;

beforeAll(async () => {
  n = await startNetwork('lists');
  client = n.referrals!;
});

afterAll(async () => {
  await n?.stop();
});

const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);
const as = (user: Parameters<Network['as']>[0]) => n.as(user);

async function sendTo(toAgency: string, consentRecipients = [toAgency]) {
  const granted = await grantConsent(n, 'peel-officer', [
    referralScope({ recipients: consentRecipients, categories: ['needs'] }),
  ]);
  const { referral } = await callUnary(
    client.send.bind(client),
    {
      idempotencyKey: randomUUID(),
      subjectRef: granted.subjectRef,
      fromAgency: 'peel-regional-police',
      toAgency,
      priority: pb.Priority.PRIORITY_STANDARD,
      needs: ['shelter'],
      language: 'en',
      interpreterNeeded: false,
      packet,
    },
    as('peel-officer'),
  );
  return { referral: referral!, consentId: granted.consentId };
}

const search = (request: Partial<pb.SearchRequest>, user: Parameters<Network['as']>[0]) =>
  callUnary(client.search.bind(client), pb.SearchRequest.fromPartial(request), as(user));

const assign = (referralId: string, assignedUser: string, user: Parameters<Network['as']>[0], key = randomUUID()) =>
  callUnary(
    client.assign.bind(client),
    { idempotencyKey: key, referralId, assignedUser, expectedVersion: 0 },
    as(user),
  ).then((r) => r.referral!);

describe('short references and search', () => {
  it('every referral gets its own short reference, and search finds it by that and by its receipt', async () => {
    const a = await sendTo('london-coalition');
    const b = await sendTo('london-coalition');
    for (const { referral } of [a, b]) {
      expect(referral.reference).toMatch(/^R-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$/);
      expect(parseReference(referral.reference)).toBeGreaterThan(0);
    }
    expect(a.referral.reference).not.toBe(b.referral.reference);

    const got = await callUnary(
      client.get.bind(client),
      { referralId: a.referral.id, purpose: '' },
      as('london-intake'),
    );
    expect(got.referral!.reference).toBe(a.referral.reference);

    // Typed from paper: lower case, spaces.
    const byReference = await search(
      { reference: a.referral.reference.toLowerCase().replaceAll('-', ' ') },
      'london-intake',
    );
    expect(byReference.referrals.map((r) => r.id)).toEqual([a.referral.id]);

    const receipt = receiptReference(a.consentId);
    for (const user of ['london-intake', 'peel-officer'] as const) {
      const found = await search({ receiptReference: receipt.toLowerCase() }, user);
      expect(found.referrals.map((r) => r.id)).toEqual([a.referral.id]);
    }
    // Another agency, party to nothing of it, finds nothing: not even that it exists.
    const outsider = await search({ receiptReference: receipt }, 'pact-intake');
    expect(outsider.referrals).toEqual([]);
    const outsiderByRef = await search({ reference: a.referral.reference }, 'pact-intake');
    expect(outsiderByRef.referrals).toEqual([]);
    // An auditor may look at another agency's referrals.
    const audited = await search({ agency: 'london-coalition', receiptReference: receipt }, 'auditor');
    expect(audited.referrals.map((r) => r.id)).toEqual([a.referral.id]);
    expect((await failure(search({ agency: 'london-coalition' }, 'pact-intake'))).code).toBe('permission_denied');

    const bad = await failure(search({ reference: 'R-UUUU-UU', receiptReference: 'xyz' }, 'london-intake'));
    expect(bad.code).toBe('invalid_argument');
    expect(bad.violations.map((v) => v.field).sort()).toEqual(['receipt_reference', 'reference']);
  });

  it('filters by state and sending time', async () => {
    const { referral } = await sendTo('london-coalition');
    const sentAt = referral.sentAt!.getTime();
    const window = await search(
      {
        states: [pb.State.STATE_SENT],
        sentFrom: new Date(sentAt - 1),
        sentTo: new Date(sentAt + 1),
      },
      'london-intake',
    );
    expect(window.referrals.map((r) => r.id)).toContain(referral.id);
    const before = await search({ sentTo: new Date(sentAt - 1), reference: referral.reference }, 'london-intake');
    expect(before.referrals).toEqual([]);
    const closed = await search({ states: [pb.State.STATE_CLOSED], reference: referral.reference }, 'london-intake');
    expect(closed.referrals).toEqual([]);
    const reversed = await failure(
      search({ sentFrom: new Date(sentAt), sentTo: new Date(sentAt - 1000) }, 'london-intake'),
    );
    expect(reversed.violations[0]!.field).toBe('sent_to');
  });
});

describe('assignment', () => {
  it('a worker claims, a supervisor reassigns; the timeline and the events name the worker', async () => {
    const { referral } = await sendTo('london-coalition');
    const key = randomUUID();
    const claimed = await assign(referral.id, 'london-intake', 'london-intake', key);
    expect(claimed).toMatchObject({ assignedUser: 'london-intake', version: referral.version + 1 });
    expect(claimed.assignedAt).toBeInstanceOf(Date);
    // A retry gives the first answer; claiming again changes nothing.
    expect(await assign(referral.id, 'london-intake', 'london-intake', key)).toEqual(claimed);
    expect((await assign(referral.id, 'london-intake', 'london-intake')).version).toBe(claimed.version);

    // Another worker cannot take it; a worker cannot hand it to someone else.
    expect((await failure(assign(referral.id, counsellor.userId, counsellor))).code).toBe('failed_precondition');
    expect((await failure(assign(referral.id, counsellor.userId, 'london-intake'))).code).toBe('permission_denied');
    // The sender, or a stranger, does not assign.
    expect((await failure(assign(referral.id, 'peel-officer', 'peel-officer'))).code).toBe('permission_denied');
    expect((await failure(assign(referral.id, 'pact-intake', 'pact-intake'))).code).toBe('not_found');
    const stale = await failure(
      callUnary(
        client.assign.bind(client),
        { idempotencyKey: randomUUID(), referralId: referral.id, assignedUser: '', expectedVersion: 1 },
        as('london-supervisor'),
      ),
    );
    expect(stale.code).toBe('aborted');

    const reassigned = await assign(referral.id, counsellor.userId, 'london-supervisor');
    expect(reassigned.assignedUser).toBe('london-counsellor');

    const mine = await callUnary(
      client.listInbox.bind(client),
      pb.ListInboxRequest.fromPartial({ assignedTo: 'me' }),
      as(counsellor),
    );
    expect(mine.referrals.map((r) => r.id)).toEqual([referral.id]);
    const theirs = await callUnary(
      client.listInbox.bind(client),
      pb.ListInboxRequest.fromPartial({ assignedTo: 'me' }),
      as('london-intake'),
    );
    expect(theirs.referrals.map((r) => r.id)).not.toContain(referral.id);
    const unassigned = await callUnary(
      client.listInbox.bind(client),
      pb.ListInboxRequest.fromPartial({ assignedTo: 'none', pageSize: 200 }),
      as('london-intake'),
    );
    expect(unassigned.referrals.length).toBeGreaterThan(0);
    expect(unassigned.referrals.every((r) => r.assignedUser === '')).toBe(true);

    const { transitions } = await callUnary(
      client.timeline.bind(client),
      { referralId: referral.id },
      as('london-intake'),
    );
    const assignments = transitions.filter((t) => t.event === 'assigned');
    expect(assignments.map((t) => [t.actorUser, t.assignedUser, t.reason])).toEqual([
      ['london-intake', 'london-intake', 'claimed'],
      ['london-supervisor', 'london-counsellor', ''],
    ]);
    expect(assignments.every((t) => t.from === pb.State.STATE_SENT && t.to === pb.State.STATE_SENT)).toBe(true);

    // Other services see who has it: referral.v1.<from>.<to>.assigned carries assigned_user (a user id).
    const subject = new Topology(n.nats.namespace).referral('peel-regional-police', 'london-coalition', 'assigned');
    const events = await waitFor(
      async () => {
        const nc = await connect({ servers: n.nats.url });
        try {
          const jsm = await jetstreamManager(nc);
          const stream = new Topology(n.nats.namespace).stream('referral').name;
          const { state } = await jsm.streams.info(stream);
          const found: string[] = [];
          for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
            const message = await jsm.streams.getMessage(stream, { seq });
            if (message?.subject !== subject) continue;
            const envelope = decodeEnvelope(message.data);
            if (envelope.referralId !== referral.id || envelope.payload?.$case !== 'referralChanged') continue;
            found.push(envelope.payload.value.assignedUser);
          }
          return found;
        } finally {
          await nc.close();
        }
      },
      (found) => found.length === 2,
    );
    expect(events).toEqual(['london-intake', 'london-counsellor']);

    // The caseload: supervisors see open referrals per worker.
    const load = await callUnary(client.caseload.bind(client), { agency: '' }, as('london-supervisor'));
    expect(load.workloads.length).toBeGreaterThan(0);
    expect(load.workloads.find((w) => w.userId === 'london-counsellor')).toMatchObject({ open: 1, needsAction: 1 });
    expect(load.unassigned).toBeGreaterThan(0);
    expect((await failure(callUnary(client.caseload.bind(client), { agency: '' }, as('london-intake')))).code).toBe(
      'permission_denied',
    );
    expect(
      (await failure(callUnary(client.caseload.bind(client), { agency: 'pact-ottawa' }, as('london-supervisor')))).code,
    ).toBe('permission_denied');

    // Unassigned by the supervisor: back in the team's queue; the timeline says from whom.
    const released = await assign(referral.id, '', 'london-supervisor');
    expect(released.assignedUser).toBe('');
    const after = await callUnary(client.timeline.bind(client), { referralId: referral.id }, as('london-intake'));
    expect(after.transitions.at(-1)).toMatchObject({ event: 'unassigned', assignedUser: 'london-counsellor' });
  });
});

describe('paging', () => {
  it('pages through 450 referrals, 200 at a time, needs-your-action first, each exactly once', async () => {
    const agency = `paging-${randomUUID().slice(0, 8)}`;
    const other = `other-${randomUUID().slice(0, 8)}`;
    const states = ['sent', 'acknowledged', 'accepted', 'in_contact', 'closed', 'declined', 'withdrawn'];
    // Received ones, all kinds, and some sent by the agency and declined (half of them resent).
    await n.sql.query(
      `insert into referrals.referrals (id, subject_ref, from_agency, to_agency, priority, state, version, needs, language,
         interpreter_needed, do_not_contact, categories, grants, sent_by, sent_at, acknowledge_due_at, accept_due_at,
         escalated, reference_no)
       select gen_random_uuid(), gen_random_uuid(),
              case when i % 9 = 0 then $1 else $2 end, case when i % 9 = 0 then $2 else $1 end,
              case when i % 4 = 0 then 'urgent' else 'standard' end,
              case when i % 9 = 0 then 'declined' else ($3::text[])[1 + i % 7] end,
              1, '[]', 'en', false, false, '[]', '[]', '{}',
              timestamptz '2026-11-01T00:00:00Z' + (i % 97) * interval '1 hour',
              now(), now(), i % 5 = 0, nextval('referrals.reference_numbers')
         from generate_series(1, 450) i`,
      [agency, other, states],
    );
    await n.sql.query(
      `insert into referrals.referrals (id, subject_ref, from_agency, to_agency, priority, state, version, needs, language,
         interpreter_needed, do_not_contact, categories, grants, sent_by, sent_at, acknowledge_due_at, accept_due_at,
         reference_no, previous_referral_id)
       select gen_random_uuid(), subject_ref, from_agency, $2, priority, 'sent', 1, '[]', 'en', false, false, '[]', '[]',
              '{}', sent_at, now(), now(), nextval('referrals.reference_numbers'), id
         from referrals.referrals where from_agency = $1 and state = 'declined' and reference_no % 2 = 0`,
      [agency, `third-${agency}`],
    );
    const caller: Caller = { userId: `${agency}-worker`, agencyId: agency, roles: ['intake_worker'] };

    async function all(page: (cursor: string) => Promise<pb.ListInboxResponse>): Promise<pb.Referral[]> {
      const seen: pb.Referral[] = [];
      let cursor = '';
      let pages = 0;
      do {
        const answer = await page(cursor);
        expect(answer.referrals.length).toBeLessThanOrEqual(200);
        seen.push(...answer.referrals);
        cursor = answer.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      return seen;
    }

    const inbox = await all((cursor) =>
      callUnary(client.listInbox.bind(client), pb.ListInboxRequest.fromPartial({ cursor, pageSize: 200 }), as(caller)),
    );
    expect(inbox.length).toBe(400);
    expect(new Set(inbox.map((r) => r.id)).size).toBe(400);

    const resent = new Set(
      (
        await n.sql.query<{ previous_referral_id: string }>(
          'select previous_referral_id from referrals.referrals where to_agency = $1',
          [`third-${agency}`],
        )
      ).rows.map((r) => r.previous_referral_id),
    );
    expect(resent.size).toBeGreaterThan(0);
    expect(resent.size).toBeLessThan(50);
    const expectOrder = (listed: pb.Referral[]) => {
      const ranked: Ranked[] = listed.map((r) => {
        const domain = {
          id: r.id,
          fromAgency: r.fromAgency,
          toAgency: r.toAgency,
          state: stateName(r.state),
          priority: r.priority === pb.Priority.PRIORITY_URGENT ? 'urgent' : 'standard',
          escalated: r.escalated,
          sentAt: r.sentAt!,
        } as unknown as Referral;
        return { referral: domain, rank: listRank(domain, agency, resent.has(r.id)) };
      });
      expect(ranked.length).toBeGreaterThan(0);
      expect([...ranked].sort(compareRanked).map((r) => r.referral.id)).toEqual(ranked.map((r) => r.referral.id));
      return ranked;
    };
    const inboxRanks = expectOrder(inbox);
    expect(inboxRanks[0]!.rank).toBe(0);

    // Search covers both sides: the 50 declined ones the agency sent and its resends come too,
    // the declined ones not yet resent first.
    const sentCount = 50 + resent.size;
    const both = await all((cursor) =>
      callUnary(client.search.bind(client), pb.SearchRequest.fromPartial({ cursor, pageSize: 200 }), as(caller)),
    );
    expect(both.length).toBe(400 + sentCount);
    expect(new Set(both.map((r) => r.id)).size).toBe(400 + sentCount);
    const bothRanks = expectOrder(both);
    const declinedUnresent = bothRanks.filter((r) => r.referral.fromAgency === agency && r.rank === 0);
    expect(declinedUnresent.length).toBe(50 - resent.size);

    const outbox = await all((cursor) =>
      callUnary(client.listOutbox.bind(client), pb.ListOutboxRequest.fromPartial({ cursor, pageSize: 20 }), as(caller)),
    );
    expect(outbox.length).toBe(sentCount);
    const outboxRanks = expectOrder(outbox);
    expect(outboxRanks.slice(0, 50 - resent.size).every((r) => r.rank === 0)).toBe(true);

    const badCursor = await failure(
      callUnary(client.listInbox.bind(client), pb.ListInboxRequest.fromPartial({ cursor: 'MjAw' }), as(caller)),
    );
    expect(badCursor.violations[0]!.field).toBe('cursor');
  });
});

const stateName = stateFromWire;
