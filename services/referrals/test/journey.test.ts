import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { consent as consentPb, referrals as pb } from '@passage/contracts';
import { Topology, decodeEnvelope, type Envelope } from '@passage/events';
import { failureOf } from '@passage/testing';
import { callUnary, type PassageError } from '@passage/platform';
import { grantConsent as grantPeelConsent, referralScope, startNetwork, waitUntil, type Network } from './support.ts';

// Synthetic packet contents only.
const packet = [
  { category: 'identity', content: 'Synthetic Person Qzvx, born 1999', withheld: false },
  { category: 'safe_contact', content: 'Text +1-555-0142 after 18:00; never call', withheld: false },
  { category: 'needs', content: 'Safe housing and counselling in Arabic', withheld: false },
];

let n: Network;
let client: pb.ReferralServiceClient;

beforeAll(async () => {
  n = await startNetwork('journey');
  client = n.referrals!;
});

afterAll(async () => {
  await n?.stop();
});

const grantConsent = (recipients: string[], categories = ['identity', 'safe_contact', 'needs']) =>
  grantPeelConsent(n, 'peel-officer', [referralScope({ recipients, categories, doNotContact: true })]);

function sendRequest(subjectRef: string, overrides: Partial<pb.SendRequest> = {}): pb.SendRequest {
  return {
    idempotencyKey: randomUUID(),
    subjectRef,
    fromAgency: 'peel-regional-police',
    toAgency: 'london-coalition',
    priority: pb.Priority.PRIORITY_URGENT,
    needs: ['shelter', 'counselling'],
    language: 'ar',
    interpreterNeeded: true,
    packet,
    ...overrides,
  };
}

const send = (request: pb.SendRequest, user: Parameters<Network['as']>[0] = 'peel-officer') =>
  callUnary(client.send.bind(client), request, n.as(user)).then((r) => r.referral!);
const step = (id: string) => ({ idempotencyKey: randomUUID(), referralId: id, expectedVersion: 0 });

const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);

async function eventsOf(
  streamArea: 'referral' | 'audit',
  referralId: string,
): Promise<Array<{ subject: string; envelope: Envelope }>> {
  const nc = await connect({ servers: n.nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = new Topology(n.nats.namespace).stream(streamArea).name;
    const { state } = await jsm.streams.info(stream);
    const out: Array<{ subject: string; envelope: Envelope }> = [];
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(stream, { seq });
      const envelope = decodeEnvelope(message!.data);
      if (envelope.referralId === referralId) out.push({ subject: message!.subject, envelope });
    }
    return out;
  } finally {
    await nc.close();
  }
}

describe('the hand-off journey', () => {
  it('Peel officer → London coalition: acknowledge, accept, contact, close; events in order; timeline matches', async () => {
    const { subjectRef } = await grantConsent(['london-coalition']);
    const sent = await send(sendRequest(subjectRef));
    expect(sent.state).toBe(pb.State.STATE_SENT);
    expect(sent.doNotContact).toBe(true);
    // London's urgent targets: acknowledge within 60 minutes, accept within 240.
    expect(sent.acknowledgeDueAt!.getTime() - sent.sentAt!.getTime()).toBe(60 * 60_000);
    expect(sent.acceptDueAt!.getTime() - sent.sentAt!.getTime()).toBe(240 * 60_000);

    const inbox = await callUnary(
      client.listInbox.bind(client),
      { agency: '', states: [pb.State.STATE_SENT], cursor: '', pageSize: 20, assignedTo: '' },
      n.as('london-intake'),
    );
    expect(inbox.referrals.map((r) => r.id)).toContain(sent.id);

    const london = n.as('london-intake');
    await callUnary(client.acknowledge.bind(client), step(sent.id), london);
    await callUnary(client.accept.bind(client), step(sent.id), london);
    const contactAt = new Date();
    await callUnary(
      client.recordContact.bind(client),
      { ...step(sent.id), at: contactAt, method: 'through_referrer' },
      london,
    );
    const closed = await callUnary(
      client.closeReferral.bind(client),
      { ...step(sent.id), outcome: 'services_provided', note: 'Housed; counselling booked' },
      london,
    );
    expect(closed.referral).toMatchObject({ state: pb.State.STATE_CLOSED, version: 5, reason: 'services_provided' });

    await waitUntil(async () => (await eventsOf('referral', sent.id)).length === 5);
    const events = await eventsOf('referral', sent.id);
    const prefix = `${n.nats.namespace}.referral.v1.peel-regional-police.london-coalition.`;
    expect(events.map((e) => e.subject)).toEqual(
      ['sent', 'acknowledged', 'accepted', 'contact_recorded', 'closed'].map((event) => prefix + event),
    );
    const times = events.map((e) => e.envelope.occurredAt!.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const last = events.at(-1)!.envelope.payload;
    expect(last?.$case === 'referralChanged' && last.value.contactAt?.getTime()).toBe(contactAt.getTime());
    // Thin events: nothing of the packet or the note.
    for (const { envelope } of events) {
      const bytes = JSON.stringify(envelope);
      expect(bytes).not.toMatch(/Qzvx|555-0142|Arabic|Housed/);
    }

    const timeline = await callUnary(client.timeline.bind(client), { referralId: sent.id }, n.as('auditor'));
    expect(timeline.transitions.map((t) => [t.event, t.actorAgency, t.at!.getTime()])).toEqual(
      events.map((e) => [
        e.envelope.type.replace('referral.v1.', ''),
        e.envelope.actor!.agency,
        e.envelope.occurredAt!.getTime(),
      ]),
    );
  });

  it('shows each party only what consent allows it now, and audits every read', async () => {
    const { subjectRef } = await grantConsent(['london-coalition']);
    const sent = await send(sendRequest(subjectRef));
    const byLondon = await callUnary(
      client.get.bind(client),
      { referralId: sent.id, purpose: '' },
      n.as('london-intake'),
    );
    expect(byLondon.packet.map((s) => [s.category, s.withheld])).toEqual([
      ['identity', false],
      ['safe_contact', false],
      ['needs', false],
    ]);
    expect(byLondon.packet[1]!.content).toBe(packet[1]!.content);

    // The sender is police; the consent excludes police: nothing comes back, for any purpose.
    for (const purpose of ['', 'investigation']) {
      const byPeel = await callUnary(client.get.bind(client), { referralId: sent.id, purpose }, n.as('peel-officer'));
      expect(byPeel.packet).toHaveLength(packet.length);
      expect(byPeel.packet.every((s) => s.withheld && s.content === '')).toBe(true);
    }

    // Another agency is told what a made-up id is told: nothing about whether it exists.
    const stranger = await failure(
      callUnary(client.get.bind(client), { referralId: sent.id, purpose: '' }, n.as('pact-intake')),
    );
    const madeUp = '0193a3c4-0000-7000-8000-000000000000';
    const none = await failure(
      callUnary(client.get.bind(client), { referralId: madeUp, purpose: '' }, n.as('pact-intake')),
    );
    expect(stranger.code).toBe('not_found');
    expect(none.code).toBe('not_found');
    expect(stranger.message.replace(sent.id, madeUp)).toBe(none.message);
    for (const [what, call] of [
      ['timeline', () => callUnary(client.timeline.bind(client), { referralId: sent.id }, n.as('pact-intake'))],
      ['accept', () => callUnary(client.accept.bind(client), step(sent.id), n.as('pact-intake'))],
      [
        'resend',
        () =>
          callUnary(
            client.resend.bind(client),
            { referralId: sent.id, toAgency: 'pact-ottawa', packet: [], idempotencyKey: randomUUID() },
            n.as('pact-intake'),
          ),
      ],
    ] as const) {
      expect((await failure(call())).code, what).toBe('not_found');
    }

    await waitUntil(async () => (await eventsOf('audit', sent.id)).length === 4);
    const audit = (await eventsOf('audit', sent.id)).map(({ envelope }) => {
      const p = envelope.payload;
      return p?.$case === 'accessRecorded'
        ? [envelope.actor!.agency, p.value.outcome, p.value.categories.join(',')]
        : [];
    });
    expect(audit).toEqual([
      ['london-coalition', 'granted', 'identity,safe_contact,needs'],
      ['peel-regional-police', 'denied', ''],
      ['peel-regional-police', 'denied', ''],
      ['pact-ottawa', 'denied', ''],
    ]);
  });

  it('refuses categories consent does not allow, listing them, and stores nothing', async () => {
    const { subjectRef } = await grantConsent(['london-coalition'], ['needs']);
    const before = (await n.sql.query('select count(*)::int as n from referrals.referrals')).rows[0].n as number;
    const refused = await failure(send(sendRequest(subjectRef)));
    expect(refused.code).toBe('invalid_argument');
    expect(refused.message).toContain('identity, safe_contact');
    const bad = await failure(
      send(sendRequest(subjectRef, { needs: [], toAgency: 'peel-regional-police', language: 'english' })),
    );
    expect(bad.message).toMatch(/to_agency: a referral goes to another agency/);
    expect(bad.message).toMatch(/needs: name at least one need/);
    expect(bad.message).toMatch(/language:/);
    const big = await failure(
      send(sendRequest(subjectRef, { packet: [{ category: 'needs', content: 'x'.repeat(9000), withheld: false }] })),
    );
    expect(big.message).toContain('packet[0].content: at most 8000 characters');
    const unknown = await failure(send(sendRequest(subjectRef, { toAgency: 'no-such-agency' })));
    expect(unknown.message).toContain('to_agency: no agency "no-such-agency"');
    const noPriority = await failure(send(sendRequest(subjectRef, { priority: pb.Priority.PRIORITY_UNSPECIFIED })));
    expect(noPriority.message).toContain('priority');
    expect((await n.sql.query('select count(*)::int as n from referrals.referrals')).rows[0].n).toBe(before);
  });

  it('returns the first result for a repeated idempotency key and creates one referral', async () => {
    const { subjectRef } = await grantConsent(['london-coalition']);
    const request = sendRequest(subjectRef);
    const [a, b] = await Promise.all([send(request), send(request)]);
    const c = await send(request);
    expect(new Set([a.id, b.id, c.id]).size).toBe(1);
    const { rows } = await n.sql.query('select count(*)::int as n from referrals.referrals where subject_ref = $1', [
      subjectRef,
    ]);
    expect(rows[0].n).toBe(1);
    const reused = await failure(send({ ...request, needs: ['legal'] }));
    expect(reused.message).toContain('idempotency_key: already used for a different request');
  });

  it('answers FAILED_PRECONDITION naming the state, PERMISSION_DENIED for the wrong party, ABORTED for a stale version', async () => {
    const { subjectRef } = await grantConsent(['london-coalition']);
    const sent = await send(sendRequest(subjectRef));
    const wrongParty = await failure(callUnary(client.accept.bind(client), step(sent.id), n.as('peel-officer')));
    expect(wrongParty.code).toBe('permission_denied');
    await callUnary(client.accept.bind(client), step(sent.id), n.as('london-intake'));
    const again = await failure(callUnary(client.acknowledge.bind(client), step(sent.id), n.as('london-intake')));
    expect(again.code).toBe('failed_precondition');
    expect(again.message).toBe('cannot acknowledge a referral that is accepted');
    const stale = await failure(
      callUnary(
        client.closeReferral.bind(client),
        { ...step(sent.id), expectedVersion: 1, outcome: 'other', note: '' },
        n.as('london-intake'),
      ),
    );
    expect(stale.code).toBe('aborted');
    const after = await callUnary(client.get.bind(client), { referralId: sent.id, purpose: '' }, n.as('london-intake'));
    expect(after.referral?.state).toBe(pb.State.STATE_ACCEPTED);
  });

  it('lets one of two concurrent transitions win and changes nothing for the other', async () => {
    const { subjectRef } = await grantConsent(['london-coalition']);
    const sent = await send(sendRequest(subjectRef));
    const london = n.as('london-intake');
    const results = await Promise.allSettled([
      callUnary(client.accept.bind(client), step(sent.id), london),
      callUnary(
        client.decline.bind(client),
        { ...step(sent.id), reason: 'no_capacity', note: '', suggestedAgency: '', noteForSender: '' },
        london,
      ),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(['aborted', 'failed_precondition']).toContain((loser.reason as PassageError).code);
    const timeline = await callUnary(client.timeline.bind(client), { referralId: sent.id }, london);
    expect(timeline.transitions).toHaveLength(2);
  });

  it('withdraws an open referral when consent is revoked; no read returns revoked data after the revocation', async () => {
    const granted = await grantConsent(['london-coalition']);
    const sent = await send(sendRequest(granted.subjectRef));
    await callUnary(client.acknowledge.bind(client), step(sent.id), n.as('london-intake'));
    await callUnary(
      n.consent.revoke.bind(n.consent),
      {
        idempotencyKey: randomUUID(),
        consentId: granted.consentId,
        scopeIds: [],
        all: true,
        reason: 'person_withdrew',
      },
      n.as('london-intake'),
    );
    for (let i = 0; i < 20; i++) {
      const view = await callUnary(
        client.get.bind(client),
        { referralId: sent.id, purpose: '' },
        n.as('london-intake'),
      );
      expect(view.packet.filter((s) => !s.withheld)).toEqual([]);
    }
    await waitUntil(async () => {
      const view = await callUnary(client.get.bind(client), { referralId: sent.id, purpose: '' }, n.as('peel-officer'));
      return view.referral?.state === pb.State.STATE_WITHDRAWN;
    });
    const outbox = await callUnary(
      client.listOutbox.bind(client),
      { agency: '', states: [pb.State.STATE_WITHDRAWN], cursor: '', pageSize: 200 },
      n.as('peel-officer'),
    );
    expect(outbox.referrals.find((r) => r.id === sent.id)?.reason).toBe('consent_revoked');
  });

  it('refuses a decline that suggests a police service, the Crown or an unknown agency, and changes nothing', async () => {
    const granted = await grantConsent(['london-coalition']);
    const sent = await send(sendRequest(granted.subjectRef));
    for (const suggestedAgency of ['opp', 'crown-ht-specialists', 'no-such-agency']) {
      const refused = await failure(
        callUnary(
          client.decline.bind(client),
          { ...step(sent.id), reason: 'outside_mandate', note: '', suggestedAgency, noteForSender: '' },
          n.as('london-intake'),
        ),
      );
      expect(refused.code).toBe('invalid_argument');
      expect(refused.message).toMatch(/suggested_agency/);
    }
    const view = await callUnary(client.get.bind(client), { referralId: sent.id, purpose: '' }, n.as('london-intake'));
    expect(view.referral?.state).toBe(pb.State.STATE_SENT);
  });

  it('resends a declined referral to the suggested agency, consent checked again', async () => {
    const granted = await grantConsent(['london-coalition', 'pact-ottawa']);
    const sent = await send(sendRequest(granted.subjectRef));
    await callUnary(
      client.decline.bind(client),
      {
        ...step(sent.id),
        reason: 'language',
        note: 'No Arabic counsellor this month',
        suggestedAgency: 'pact-ottawa',
        noteForSender: '',
      },
      n.as('london-intake'),
    );
    const { referral } = await callUnary(
      client.resend.bind(client),
      { idempotencyKey: randomUUID(), referralId: sent.id, toAgency: 'pact-ottawa', packet: [] },
      n.as('peel-officer'),
    );
    expect(referral).toMatchObject({
      toAgency: 'pact-ottawa',
      previousReferralId: sent.id,
      state: pb.State.STATE_SENT,
    });
    const atPact = await callUnary(
      client.get.bind(client),
      { referralId: referral!.id, purpose: '' },
      n.as('pact-intake'),
    );
    expect(atPact.packet.map((s) => s.content)).toEqual(packet.map((s) => s.content));
    const noConsent = await failure(
      callUnary(
        client.resend.bind(client),
        { idempotencyKey: randomUUID(), referralId: sent.id, toAgency: 'windsor-essex-ahtag', packet: [] },
        n.as('peel-officer'),
      ),
    );
    expect(noConsent.code).toBe('failed_precondition');
    expect(noConsent.reason).toBe('consent_does_not_cover');
  });

  it('says a resend the consent does not cover is just that, and sends once the person agrees to an amendment (ADR 36)', async () => {
    const granted = await grantConsent(['london-coalition']);
    const sent = await send(sendRequest(granted.subjectRef));
    await callUnary(
      client.decline.bind(client),
      { ...step(sent.id), reason: 'no_capacity', note: '', noteForSender: '', suggestedAgency: 'pact-ottawa' },
      n.as('london-intake'),
    );
    const resend = (key: string) =>
      callUnary(
        client.resend.bind(client),
        { idempotencyKey: key, referralId: sent.id, toAgency: 'pact-ottawa', packet: [] },
        n.as('peel-officer'),
      );
    const refused = await failure(resend(randomUUID()));
    expect(refused.code).toBe('failed_precondition');
    expect(refused.reason).toBe('consent_does_not_cover');
    expect(refused.message).toMatch(/consent does not cover pact-ottawa/);

    await callUnary(
      n.consent.amend.bind(n.consent),
      {
        idempotencyKey: randomUUID(),
        consentId: granted.consentId,
        scopes: [
          {
            ...referralScope({ recipients: ['pact-ottawa'], categories: ['identity', 'safe_contact', 'needs'] }),
          },
        ],
        method: consentPb.CaptureMethod.CAPTURE_METHOD_VERBAL,
        interpreterLanguage: '',
        language: 'en',
      },
      n.as('peel-officer'),
    );
    const { referral } = await resend(randomUUID());
    expect(referral).toMatchObject({ toAgency: 'pact-ottawa', previousReferralId: sent.id });
    const atPact = await callUnary(
      client.get.bind(client),
      { referralId: referral!.id, purpose: '' },
      n.as('pact-intake'),
    );
    expect(atPact.packet.filter((s) => !s.withheld).map((s) => s.category)).toEqual([
      'identity',
      'safe_contact',
      'needs',
    ]);
    // The recipient is told which consent it reads under: where it records the person's withdrawal.
    expect(atPact.consentIds).toEqual([granted.consentId]);
  });
});
