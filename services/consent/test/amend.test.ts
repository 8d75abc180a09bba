import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { consent as pb } from '@passage/contracts';
import { ontarioAgencies } from '@passage/directory/seed';
import { Topology, decodeEnvelope } from '@passage/events';
import { failureOf } from '@passage/testing';
import { callUnary, type PassageError } from '@passage/platform';
import { startConsentHarness, waitUntil, type ConsentHarness } from './support.ts';

// Amending a consent with the person, and withdrawal recorded by any agency it covers (ADR 36),
// against the real consent service, directory, Postgres and NATS. Synthetic data only.
const syntheticName = 'Qvxz Amend-Synthetic';

let h: ConsentHarness;
let sql: pg.Client;

beforeAll(async () => {
  h = await startConsentHarness('consentamend');
  sql = new pg.Client({ connectionString: h.db.url });
  await sql.connect();
  await waitUntil(
    async () =>
      (await sql.query('select count(*)::int as n from consent.agencies')).rows[0].n === ontarioAgencies.length,
  );
});

afterAll(async () => {
  await sql?.end();
  await h?.stop();
});

type User = Parameters<ConsentHarness['as']>[0];
const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

function scope(overrides: Partial<pb.Scope> = {}): pb.Scope {
  return {
    id: '',
    recipientAgencyIds: ['london-coalition'],
    recipientKinds: [],
    purposes: ['referral'],
    categories: ['needs', 'safe_contact'],
    doNotContact: false,
    revokedAt: undefined,
    ...overrides,
  };
}

const grant = (scopes: pb.Scope[] = [scope()], user: User = 'crisis-counsellor', language = 'en') =>
  callUnary(
    h.client.grant.bind(h.client),
    {
      idempotencyKey: randomUUID(),
      subjectRef: '',
      method: pb.CaptureMethod.CAPTURE_METHOD_VERBAL,
      interpreterLanguage: '',
      language,
      expiresAt: inDays(30),
      scopes,
      receiptName: syntheticName,
      notes: '',
    },
    h.as(user),
  );

function amendRequest(consentId: string, overrides: Partial<pb.AmendRequest> = {}): pb.AmendRequest {
  return {
    idempotencyKey: randomUUID(),
    consentId,
    scopes: [scope({ recipientAgencyIds: ['pact-ottawa'], categories: ['needs'] })],
    method: pb.CaptureMethod.CAPTURE_METHOD_VERBAL,
    interpreterLanguage: '',
    language: '',
    ...overrides,
  };
}

const amend = (request: pb.AmendRequest, user: User = 'crisis-counsellor') =>
  callUnary(h.client.amend.bind(h.client), request, h.as(user));
const receipt = (consentId: string, language: string, version: number | undefined, user: User = 'crisis-counsellor') =>
  callUnary(h.client.receipt.bind(h.client), { consentId, language, discreet: false, version }, h.as(user));
const allowed = async (subjectRef: string, agencyId: string, user: User = 'crisis-counsellor') =>
  (
    await callUnary(
      h.client.evaluate.bind(h.client),
      { subjectRef, recipientAgencyId: agencyId, recipientKind: '', purpose: 'referral' },
      h.as(user),
    )
  ).allowed
    .map((a) => a.category)
    .sort();
const revoke = (consentId: string, user: User, all = true, scopeIds: string[] = []) =>
  callUnary(
    h.client.revoke.bind(h.client),
    { idempotencyKey: randomUUID(), consentId, scopeIds, all, reason: 'person_withdrew' },
    h.as(user),
  );

describe('Amend', () => {
  it('adds an agency with the person: evaluated at once, receipt version 2 in English and French, version 1 kept', async () => {
    const granted = await grant();
    expect(granted.consent?.receiptVersion).toBe(1);
    expect(await allowed(granted.subjectRef, 'pact-ottawa')).toEqual([]);

    const amended = await amend(amendRequest(granted.consentId));
    expect(amended.consent?.receiptVersion).toBe(2);
    expect(amended.addedScopeIds).toHaveLength(1);
    const added = amended.consent!.scopes.find((s) => s.id === amended.addedScopeIds[0])!;
    expect(added).toMatchObject({
      recipientAgencyIds: ['pact-ottawa'],
      addedInVersion: 2,
      addedBy: { agencyId: 'ontario-ht-crisis-line', userId: 'crisis-counsellor', role: 'crisis_counsellor' },
    });
    // Read-time evaluation: the next read sees the new scope, and the first agency's stands.
    expect(await allowed(granted.subjectRef, 'pact-ottawa')).toEqual(['needs']);
    expect(await allowed(granted.subjectRef, 'london-coalition')).toEqual(['needs', 'safe_contact']);

    // The answer carries version 2, in the consent's language, with the name the person gave.
    expect(amended.receipt).toMatchObject({ language: 'en', version: 2, latestVersion: 2 });
    expect(amended.receipt?.text).toContain(`For: ${syntheticName}`);
    expect(amended.receipt?.text).toMatch(/Version 2, updated on .+\. It replaces the earlier versions\./);
    expect(amended.receipt?.text).toMatch(/you also agreed, by telling us, to the following:\n\n• PACT-Ottawa/);
    const fr = await receipt(granted.consentId, 'fr', 2);
    expect(fr.text).toMatch(/Version 2, mise à jour le .+\. Elle remplace les versions précédentes\./);
    expect(fr.text).toContain('vous avez aussi accepté, de vive voix, ce qui suit');
    expect(JSON.parse(amended.receipt!.receiptJson)).toMatchObject({ receiptVersion: 2 });

    // Version 1 is the grant's receipt, exactly: same text, same signed JSON.
    const v1 = await receipt(granted.consentId, 'en', 1);
    expect(v1).toMatchObject({ version: 1, latestVersion: 2 });
    expect(v1.text).toBe(granted.receipt?.text);
    expect(v1.receiptJws).toBe(granted.receipt?.receiptJws);
    expect(v1.text).not.toContain('PACT');
    // No version asked: the latest, as the consent stands.
    expect((await receipt(granted.consentId, 'en', undefined)).version).toBe(2);
    const beyond = await failure(receipt(granted.consentId, 'en', 3));
    expect(beyond.code).toBe('invalid_argument');
    expect(beyond.violations.map((v) => v.field)).toEqual(['version']);
  });

  it('records the amendment in the history with its actor and time, and publishes consent.v1.amended without personal data', async () => {
    const granted = await grant();
    const before = Date.now();
    const amended = await amend(amendRequest(granted.consentId));
    const history = await callUnary(
      h.client.history.bind(h.client),
      { subjectRef: granted.subjectRef },
      h.as('crisis-counsellor'),
    );
    const entry = history.changes.find((c) => c.change === 'amended');
    expect(entry).toMatchObject({
      consentId: granted.consentId,
      scopeIds: amended.addedScopeIds,
      actor: { agencyId: 'ontario-ht-crisis-line', userId: 'crisis-counsellor', role: 'crisis_counsellor' },
    });
    expect(entry!.at!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    await waitUntil(
      async () =>
        (await sql.query('select count(*)::int as n from consent.outbox where published_at is null')).rows[0].n === 0,
    );
    const nc = await connect({ servers: h.nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = new Topology(h.nats.namespace).stream('consent').name;
      const { state } = await jsm.streams.info(stream);
      const found: ReturnType<typeof decodeEnvelope>[] = [];
      for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
        const message = await jsm.streams.getMessage(stream, { seq });
        expect(Buffer.from(message!.data).includes(Buffer.from('Synthetic'))).toBe(false);
        const envelope = decodeEnvelope(message!.data);
        if (envelope.type === 'consent.v1.amended' && envelope.consentId === granted.consentId) found.push(envelope);
      }
      expect(found).toHaveLength(1);
      const [event] = found;
      expect(event!.actor).toEqual({
        agency: 'ontario-ht-crisis-line',
        user: 'crisis-counsellor',
        role: 'crisis_counsellor',
      });
      expect(event!.payload?.$case).toBe('consentAmended');
      if (event!.payload?.$case !== 'consentAmended') return;
      expect(event!.payload.value).toMatchObject({ consentId: granted.consentId, receiptVersion: 2 });
      expect(event!.payload.value.addedScopes.map((s) => s.recipientAgencyIds)).toEqual([['pact-ottawa']]);
    } finally {
      await nc.close();
    }
  });

  it('answers a retry with the first result and amends once', async () => {
    const granted = await grant();
    const request = amendRequest(granted.consentId);
    const first = await amend(request);
    const retried = await amend(request);
    expect(retried.addedScopeIds).toEqual(first.addedScopeIds);
    expect(retried.consent?.receiptVersion).toBe(2);
    const { rows } = await sql.query(
      "select count(*)::int as n from consent.changes where consent_id = $1 and change = 'amended'",
      [granted.consentId],
    );
    expect(rows[0].n).toBe(1);
    const reused = await failure(amend({ ...request, scopes: [scope({ recipientAgencyIds: ['walk-with-me'] })] }));
    expect(reused.code).toBe('invalid_argument');
  });

  it('is for the recording agency alone: others, the agencies it names included, find no such consent', async () => {
    const granted = await grant();
    for (const user of ['london-intake', 'peel-officer'] as const) {
      const refused = await failure(amend(amendRequest(granted.consentId), user));
      expect(refused.code, user).toBe('not_found');
    }
    const auditor = await failure(amend(amendRequest(granted.consentId), 'auditor'));
    expect(auditor.code).toBe('permission_denied');
  });

  it('refuses what the rules refuse: an ended consent, an unknown agency, what it already allows', async () => {
    const granted = await grant();
    const unknown = await failure(
      amend(amendRequest(granted.consentId, { scopes: [scope({ recipientAgencyIds: ['no-such-agency'] })] })),
    );
    expect(unknown.violations.map((v) => v.field)).toEqual(['scopes[0].recipient_agency_ids[0]']);
    const already = await failure(
      amend(amendRequest(granted.consentId, { scopes: [scope({ categories: ['needs'] })] })),
    );
    expect(already.violations.map((v) => v.field)).toEqual(['scopes[0]']);
    await revoke(granted.consentId, 'crisis-counsellor');
    const ended = await failure(amend(amendRequest(granted.consentId)));
    expect(ended.code).toBe('failed_precondition');
    expect(ended.message).toMatch(/withdrawn/);
  });

  it('carries a do-not-contact wish over, and keeps the expiry', async () => {
    const granted = await grant([scope({ doNotContact: true })]);
    const amended = await amend(amendRequest(granted.consentId));
    const added = amended.consent!.scopes.find((s) => s.id === amended.addedScopeIds[0])!;
    expect(added.doNotContact).toBe(true);
    expect(amended.consent?.expiresAt).toEqual(granted.consent?.expiresAt);
  });

  it('only proposes a scope that lets police read when police amend (ADR 22)', async () => {
    const granted = await grant([scope()], 'peel-officer');
    const amended = await amend(
      amendRequest(granted.consentId, {
        scopes: [
          scope({
            recipientAgencyIds: ['peel-regional-police'],
            purposes: ['investigation'],
            categories: ['identity'],
          }),
        ],
      }),
      'peel-officer',
    );
    const added = amended.consent!.scopes.find((s) => s.id === amended.addedScopeIds[0])!;
    expect(added.proposedAt).toBeDefined();
    expect(added.proposedBy?.agencyId).toBe('peel-regional-police');
    const police = await callUnary(
      h.client.evaluate.bind(h.client),
      {
        subjectRef: granted.subjectRef,
        recipientAgencyId: 'peel-regional-police',
        recipientKind: '',
        purpose: 'investigation',
      },
      h.as('peel-officer'),
    );
    expect(police.allowed).toEqual([]);
  });
});

describe('Withdrawal recorded by any agency the consent covers', () => {
  it('lets an agency named by its kind record the person’s withdrawal of the whole consent, with its actor', async () => {
    const granted = await grant([scope(), scope({ recipientAgencyIds: [], recipientKinds: ['first_response'] })]);
    const withdrawn = await revoke(granted.consentId, 'walk-with-me-worker');
    expect(withdrawn.consent?.revokedAt).toBeDefined();
    expect(withdrawn.revokedScopeIds).toHaveLength(2);
    expect(await allowed(granted.subjectRef, 'london-coalition')).toEqual([]);
    const history = await callUnary(
      h.client.history.bind(h.client),
      { subjectRef: granted.subjectRef },
      h.as('crisis-counsellor'),
    );
    expect(history.changes.at(-1)).toMatchObject({
      change: 'revoked',
      reason: 'person_withdrew',
      actor: { agencyId: 'walk-with-me', userId: 'walk-with-me-worker', role: 'crisis_counsellor' },
    });
  });

  it('lets an agency an amendment added record it too, and refuses one the consent does not name', async () => {
    const granted = await grant();
    const stranger = await failure(revoke(granted.consentId, 'pact-intake'));
    expect(stranger.code).toBe('permission_denied');
    expect(stranger.message).toMatch(/only the agency that recorded this consent, or an agency it names/);
    await amend(amendRequest(granted.consentId));
    const withdrawn = await revoke(granted.consentId, 'pact-intake');
    expect(withdrawn.consent?.revokedAt).toBeDefined();
    expect(await allowed(granted.subjectRef, 'pact-ottawa')).toEqual([]);
  });
});
