import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { consent as pb } from '@passage/contracts';
import { ontarioAgencies } from '@passage/directory/seed';
import { SubjectCrypto, openKeyStore, parseKeyRing, publicKeyFromRaw, shredded, verifyJws } from '@passage/crypto';
import { Topology, decodeEnvelope } from '@passage/events';
import { failureOf } from '@passage/testing';
import { callUnary, createLogger, type PassageError } from '@passage/platform';
import { startConsentHarness, waitUntil, type ConsentHarness } from './support.ts';
import { discreetMarkers } from '../src/domain/receipt.ts';

// Synthetic personal data only; these strings must never appear outside ciphertext.
const syntheticName = 'Zqxwv Synthetic-Person';
const syntheticNotes = 'Met at the synthetic Qwzx clinic, room 7Q';

let h: ConsentHarness;
let sql: pg.Client;

beforeAll(async () => {
  h = await startConsentHarness('consent', { EXPIRY_SWEEP_MS: '200' });
  sql = new pg.Client({ connectionString: h.db.url });
  await sql.connect();
  // The consent service learns agency kinds and names from the directory's events.
  await waitUntil(
    async () =>
      (await sql.query('select count(*)::int as n from consent.agencies')).rows[0].n === ontarioAgencies.length,
  );
});

afterAll(async () => {
  await sql?.end();
  await h?.stop();
});

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

function grantRequest(overrides: Partial<pb.GrantRequest> = {}): pb.GrantRequest {
  return {
    idempotencyKey: randomUUID(),
    subjectRef: '',
    method: pb.CaptureMethod.CAPTURE_METHOD_VERBAL,
    interpreterLanguage: '',
    language: 'en',
    expiresAt: inDays(90),
    scopes: [
      {
        id: '',
        recipientAgencyIds: ['london-coalition'],
        recipientKinds: [],
        purposes: ['referral', 'safety_planning'],
        categories: ['identity', 'safe_contact', 'needs'],
        doNotContact: false,
        revokedAt: undefined,
      },
    ],
    receiptName: syntheticName,
    notes: syntheticNotes,
    ...overrides,
  };
}

const grant = (request: pb.GrantRequest, user: Parameters<ConsentHarness['as']>[0] = 'peel-officer') =>
  callUnary(h.client.grant.bind(h.client), request, h.as(user));
// Asked as the officer whose agency recorded the consents (as a sender would before a referral).
const evaluate = (
  subjectRef: string,
  agencyId: string,
  purpose: string,
  kind = '',
  user: Parameters<ConsentHarness['as']>[0] = 'peel-officer',
) =>
  callUnary(
    h.client.evaluate.bind(h.client),
    { subjectRef, recipientAgencyId: agencyId, recipientKind: kind, purpose },
    h.as(user),
  );
const categories = (response: pb.EvaluateResponse) => response.allowed.map((a) => a.category).sort();

const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);

async function rowCounts() {
  const { rows } = await sql.query(
    'select (select count(*) from consent.consents)::int as consents, (select count(*) from consent.outbox)::int as events',
  );
  return rows[0] as { consents: number; events: number };
}

describe('Grant and Evaluate', () => {
  it('records a consent for a new subject and evaluates it at read time', async () => {
    const granted = await grant(grantRequest());
    expect(granted.subjectRef).toMatch(/^[0-9a-f-]{36}$/);
    expect(granted.consent?.capturedBy).toEqual({
      agencyId: 'peel-regional-police',
      userId: 'peel-officer',
      role: 'officer',
    });
    expect(categories(await evaluate(granted.subjectRef, 'london-coalition', 'referral'))).toEqual([
      'identity',
      'needs',
      'safe_contact',
    ]);
    expect(categories(await evaluate(granted.subjectRef, 'pact-ottawa', 'referral'))).toEqual([]);
    // The officer who captured it gets nothing: the scope does not name police.
    expect(categories(await evaluate(granted.subjectRef, 'peel-regional-police', 'investigation'))).toEqual([]);
  });

  it('answers only an agency asking about itself, the recording agency, or oversight', async () => {
    const granted = await grant(grantRequest());
    const asRecipient = await evaluate(granted.subjectRef, 'london-coalition', 'referral', '', 'london-intake');
    expect(categories(asRecipient)).toHaveLength(3);
    // Another agency's subject answers as a made-up one does: nothing allowed, nothing learnt.
    const probe = await evaluate(granted.subjectRef, 'london-coalition', 'referral', '', 'pact-intake');
    const madeUp = await evaluate(randomUUID(), 'london-coalition', 'referral', '', 'pact-intake');
    expect(categories(probe)).toEqual([]);
    expect({ ...probe, evaluatedAt: undefined }).toEqual({ ...madeUp, evaluatedAt: undefined });
    const byAuditor = await evaluate(granted.subjectRef, 'london-coalition', 'referral', '', 'auditor');
    expect(categories(byAuditor)).toHaveLength(3);
  });

  it('evaluates an unknown subject to nothing allowed, not an error', async () => {
    const response = await evaluate('0193a3c4-0000-7000-8000-00000000dead', 'london-coalition', 'referral');
    expect(response.allowed).toEqual([]);
  });

  it('decides for police by the kind the directory gives, whatever the caller claims', async () => {
    // Recorded by the crisis line, with the person: in effect at once (ADR 22).
    const granted = await grant(
      grantRequest({
        scopes: [
          {
            ...grantRequest().scopes[0]!,
            recipientAgencyIds: [],
            recipientKinds: ['police', 'coalition'],
            purposes: ['referral', 'investigation'],
          },
        ],
      }),
      'crisis-counsellor',
    );
    const claimed = await evaluate(granted.subjectRef, 'peel-regional-police', 'referral', 'coalition');
    expect(claimed.recipientKind).toBe('police');
    expect(claimed.allowed).toEqual([]);
    expect(categories(await evaluate(granted.subjectRef, 'peel-regional-police', 'investigation'))).toHaveLength(3);
    expect(
      categories(await evaluate(granted.subjectRef, 'windsor-essex-ahtag', 'referral', '', 'crisis-counsellor')),
    ).toHaveLength(3);
  });

  it('refuses an agency the directory has not listed, whatever kind the caller claims', async () => {
    const before = await rowCounts();
    const named = await failure(
      grant(
        grantRequest({
          scopes: [{ ...grantRequest().scopes[0]!, recipientAgencyIds: ['london-coalition', 'made-up-agency'] }],
        }),
      ),
    );
    expect(named.code).toBe('invalid_argument');
    expect(named.message).toContain('scopes[0].recipient_agency_ids[1]');
    expect(await rowCounts()).toEqual(before);

    const byKind = await grant(
      grantRequest({
        scopes: [{ ...grantRequest().scopes[0]!, recipientAgencyIds: [], recipientKinds: ['coalition'] }],
      }),
    );
    expect(categories(await evaluate(byKind.subjectRef, 'london-coalition', 'referral'))).toHaveLength(3);
    const claimed = await failure(evaluate(byKind.subjectRef, 'made-up-agency', 'referral', 'coalition'));
    expect(claimed.code).toBe('invalid_argument');
    expect(claimed.message).toContain('recipient_agency_id');
  });

  it('refuses bad input naming each field, and writes nothing', async () => {
    const before = await rowCounts();
    const bad = await failure(
      grant(
        grantRequest({
          expiresAt: inDays(-1),
          scopes: [
            {
              ...grantRequest().scopes[0]!,
              categories: ['identity', 'bank_details'],
              purposes: ['gossip'],
              recipientKinds: ['bikers'],
            },
          ],
        }),
      ),
    );
    expect(bad.code).toBe('invalid_argument');
    for (const field of [
      'expires_at',
      'scopes[0].categories[1]',
      'scopes[0].purposes[0]',
      'scopes[0].recipient_kinds[0]',
    ]) {
      expect(bad.message).toContain(field);
    }
    const noScopes = await failure(grant(grantRequest({ scopes: [] })));
    expect(noScopes.message).toMatch(/^scopes: /);
    const tooLong = await failure(grant(grantRequest({ expiresAt: inDays(400) })));
    expect(tooLong.message).toContain('at most 365 days');
    const interpreter = await failure(grant(grantRequest({ method: pb.CaptureMethod.CAPTURE_METHOD_VIA_INTERPRETER })));
    expect(interpreter.message).toContain('interpreter_language');
    expect(await rowCounts()).toEqual(before);
  });

  it('lets only the roles that capture consent grant it', async () => {
    expect((await failure(grant(grantRequest(), 'auditor'))).code).toBe('permission_denied');
    const anonymous = await failure(callUnary(h.client.grant.bind(h.client), grantRequest()));
    expect(anonymous.code).toBe('unauthenticated');
  });
});

describe('Idempotency keys', () => {
  const consentsOf = async (subjectRef: string) =>
    (await sql.query('select count(*)::int as n from consent.consents where subject_ref = $1', [subjectRef])).rows[0]
      .n as number;

  it('records one consent for a Grant retried with the same key, however often and however concurrently', async () => {
    const first = await grant(grantRequest());
    const retried = grantRequest({ subjectRef: first.subjectRef });
    const answer = await grant(retried);
    // A retry after an ambiguous failure, several at once: the first answer, no second record.
    const again = await Promise.all([grant(retried), grant(retried), grant(retried)]);
    for (const response of again) {
      expect(response.consentId).toBe(answer.consentId);
      expect(response.receipt?.text).toBe(answer.receipt?.text);
    }
    expect(await consentsOf(first.subjectRef)).toBe(2);
    const { rows } = await sql.query(
      "select count(*)::int as n from consent.changes where subject_ref = $1 and change = 'granted'",
      [first.subjectRef],
    );
    expect(rows[0].n).toBe(2);
  });

  it('refuses the same key for a different request, and a command without a key', async () => {
    const request = grantRequest();
    const first = await grant(request);
    const before = await consentsOf(first.subjectRef);
    const changed = await failure(grant({ ...request, notes: 'a different request' }));
    expect(changed.code).toBe('invalid_argument');
    expect(changed.message).toContain('idempotency_key');
    const revokeUnderGrantKey = await failure(
      callUnary(
        h.client.revoke.bind(h.client),
        {
          idempotencyKey: request.idempotencyKey,
          consentId: first.consentId,
          scopeIds: [],
          all: true,
          reason: 'person_withdrew',
        },
        h.as('peel-officer'),
      ),
    );
    expect(revokeUnderGrantKey.code).toBe('invalid_argument');
    const keyless = await failure(grant(grantRequest({ idempotencyKey: '' })));
    expect(keyless.message).toContain('idempotency_key');
    expect(await consentsOf(first.subjectRef)).toBe(before);
    // Keys are per agency: another agency's same key is a different command.
    const other = await grant({ ...request, subjectRef: '' }, 'crisis-counsellor');
    expect(other.consentId).not.toBe(first.consentId);
  });

  it('answers a retried Revoke and EraseSubject with their first answers', async () => {
    const granted = await grant(grantRequest());
    const revoke = {
      idempotencyKey: randomUUID(),
      consentId: granted.consentId,
      scopeIds: [],
      all: true,
      reason: 'person_withdrew',
    };
    const first = await callUnary(h.client.revoke.bind(h.client), revoke, h.as('peel-officer'));
    const retried = await callUnary(h.client.revoke.bind(h.client), revoke, h.as('peel-officer'));
    expect(first.alreadyRevoked).toBe(false);
    expect(retried).toEqual(first);

    const erase = { idempotencyKey: randomUUID(), subjectRef: granted.subjectRef, reason: 'person_requested_erasure' };
    const erased = await callUnary(h.client.eraseSubject.bind(h.client), erase, h.as('admin'));
    expect(await callUnary(h.client.eraseSubject.bind(h.client), erase, h.as('admin'))).toEqual(erased);
    expect(erased.alreadyErased).toBe(false);
    const { rows } = await sql.query(
      "select count(*)::int as n from consent.changes where subject_ref = $1 and change in ('revoked', 'subject_erased')",
      [granted.subjectRef],
    );
    expect(rows[0].n).toBe(2);
    // The hashes of the erased person's requests (they covered the name) are gone with the keys.
    const hashes = await sql.query(
      "select request_hash from consent.idempotency_keys where subject_ref = $1 and command <> 'erase_subject'",
      [granted.subjectRef],
    );
    expect(hashes.rows.length).toBeGreaterThan(0);
    expect(hashes.rows.every((row: { request_hash: string }) => row.request_hash === 'erased')).toBe(true);
  });
});

describe('Idempotency keys expire', () => {
  it('prunes a key older than IDEMPOTENCY_KEY_RETENTION_DAYS (7) and keeps newer ones; a retry after that is a new request', async () => {
    const old = grantRequest();
    const recent = grantRequest();
    const first = await grant(old);
    await grant(recent);
    // Eight days old (the key's own time, as if the clock had moved on).
    await sql.query(`update consent.idempotency_keys set created_at = now() - interval '8 days' where key = $1`, [
      old.idempotencyKey,
    ]);
    const report = await h.consent.maintenance.pruner.pruneOnce();
    expect(report.leader).toBe(true);
    expect(report.deleted['idempotency_keys']).toBeGreaterThan(0);
    const keys = async (key: string) =>
      (await sql.query('select 1 from consent.idempotency_keys where key = $1', [key])).rowCount;
    expect(await keys(old.idempotencyKey)).toBe(0);
    expect(await keys(recent.idempotencyKey)).toBe(1);
    // The expired key is unknown now: the same request again records a second consent.
    const again = await grant({ ...old, subjectRef: first.subjectRef });
    expect(again.consentId).not.toBe(first.consentId);
  });
});

describe('investigation scopes that let police read (ADR 22)', () => {
  const policeScope = (): pb.Scope => ({
    ...grantRequest().scopes[0]!,
    recipientAgencyIds: ['peel-regional-police'],
    purposes: ['investigation'],
  });
  const confirm = (consentId: string, scopeId: string, user: Parameters<ConsentHarness['as']>[0]) =>
    callUnary(h.client.confirmScope.bind(h.client), { idempotencyKey: randomUUID(), consentId, scopeId }, h.as(user));
  async function eventsOf(consentId: string) {
    const { rows } = await sql.query<{ payload: Buffer }>('select payload from consent.outbox order by seq');
    return rows.map((row) => decodeEnvelope(row.payload)).filter((e) => e.consentId === consentId);
  }

  it('police recording one only propose it: it allows nothing until a non-police worker confirms it with the person', async () => {
    const granted = await grant(grantRequest({ scopes: [grantRequest().scopes[0]!, policeScope()] }));
    const proposed = granted.consent!.scopes[1]!;
    expect(proposed.proposedAt).toBeInstanceOf(Date);
    expect(proposed.proposedBy).toEqual({ agencyId: 'peel-regional-police', userId: 'peel-officer', role: 'officer' });
    expect(proposed.confirmedAt).toBeUndefined();
    expect((await evaluate(granted.subjectRef, 'peel-regional-police', 'investigation')).allowed).toEqual([]);
    // The rest of the consent is in effect as ever.
    expect(categories(await evaluate(granted.subjectRef, 'london-coalition', 'referral'))).toHaveLength(3);

    // Police cannot confirm their own, nor any other police service, nor an administrator.
    for (const user of ['peel-officer', 'tps-officer', 'opp-officer', 'admin'] as const) {
      const refused = await failure(confirm(granted.consentId, proposed.id, user));
      expect(refused.code, user).toBe('permission_denied');
    }
    expect((await evaluate(granted.subjectRef, 'peel-regional-police', 'investigation')).allowed).toEqual([]);

    const confirmed = await confirm(granted.consentId, proposed.id, 'crisis-counsellor');
    expect(confirmed.alreadyConfirmed).toBe(false);
    expect(confirmed.consent?.scopes[1]?.confirmedBy).toEqual({
      agencyId: 'ontario-ht-crisis-line',
      userId: 'crisis-counsellor',
      role: 'crisis_counsellor',
    });
    expect(categories(await evaluate(granted.subjectRef, 'peel-regional-police', 'investigation'))).toEqual([
      'identity',
      'needs',
      'safe_contact',
    ]);
    expect((await confirm(granted.consentId, proposed.id, 'london-intake')).alreadyConfirmed).toBe(true);

    // Both actors and times, in the text the person is given and in the signed receipt.
    const receipt = await callUnary(
      h.client.receipt.bind(h.client),
      { consentId: granted.consentId, language: 'en', discreet: false },
      h.as('peel-officer'),
    );
    expect(receipt.text).toMatch(
      /Proposed by Peel Regional Police on .+; confirmed with you by Ontario Human Trafficking Crisis Line \(24\/7\) on .+\./,
    );
    const key = publicKeyFromRaw(Buffer.from(receipt.signingPublicKey, 'base64'));
    const signed = verifyJws(receipt.receiptJws, () => key) as {
      services: { service: string; proposal?: Record<string, { agencyId: string; userId: string; at: string }> }[];
    };
    const proposal = signed.services.find((s) => s.service === proposed.id)?.proposal;
    expect(proposal?.['proposedBy']).toMatchObject({ agencyId: 'peel-regional-police', userId: 'peel-officer' });
    expect(proposal?.['confirmedBy']).toMatchObject({
      agencyId: 'ontario-ht-crisis-line',
      userId: 'crisis-counsellor',
    });
    expect(new Date(proposal!['confirmedBy']!.at).getTime()).toBeGreaterThanOrEqual(
      new Date(proposal!['proposedBy']!.at).getTime(),
    );

    const history = await callUnary(
      h.client.history.bind(h.client),
      { subjectRef: granted.subjectRef },
      h.as('auditor'),
    );
    expect(history.changes.map((c) => [c.change, c.actor?.userId])).toEqual([
      ['granted', 'peel-officer'],
      ['scope_confirmed', 'crisis-counsellor'],
    ]);
    // The consent report and the oversight feed are told, without anything about the person.
    const announced = (await eventsOf(granted.consentId)).filter((e) => e.type === 'consent.v1.police_access');
    expect(
      announced.map((e) => (e.payload?.$case === 'policeAccess' ? [e.payload.value.state, e.actor?.agency] : [])),
    ).toEqual([
      ['proposed', 'peel-regional-police'],
      ['confirmed', 'ontario-ht-crisis-line'],
    ]);
  });

  it('treats a scope naming the police kind for an investigation the same way, and one recorded by a non-police agency as in effect', async () => {
    const byKind = await grant(
      grantRequest({ scopes: [{ ...policeScope(), recipientAgencyIds: [], recipientKinds: ['police'] }] }),
      'tps-officer',
    );
    expect((await evaluate(byKind.subjectRef, 'opp', 'investigation', '', 'auditor')).allowed).toEqual([]);
    const withThePerson = await grant(grantRequest({ scopes: [policeScope()] }), 'walk-with-me-worker');
    expect(withThePerson.consent?.scopes[0]?.proposedAt).toBeUndefined();
    const notProposed = await failure(
      confirm(withThePerson.consentId, withThePerson.consent!.scopes[0]!.id, 'crisis-counsellor'),
    );
    expect(notProposed.code).toBe('failed_precondition');
    expect(categories(await evaluate(withThePerson.subjectRef, 'peel-regional-police', 'investigation'))).toHaveLength(
      3,
    );
    const announced = (await eventsOf(withThePerson.consentId)).filter((e) => e.type === 'consent.v1.police_access');
    expect(announced).toHaveLength(1);
    expect(announced[0]?.payload).toMatchObject({
      $case: 'policeAccess',
      value: { state: 'granted', policeAgencyIds: ['peel-regional-police'], allPolice: false },
    });
  });
});

/** The access records (audit.v1.access) the consent service's outbox holds about a subject. */
async function accessRecords(subjectRef: string) {
  const { rows } = await sql.query<{ payload: Buffer; published_at: Date | null }>(
    "select payload, published_at from consent.outbox where subject like '%audit.v1.access' order by seq",
  );
  return rows
    .map((row) => ({ raw: row.payload, envelope: decodeEnvelope(row.payload), published: row.published_at !== null }))
    .filter(({ envelope }) => envelope.subjectRef === subjectRef);
}

describe('reads of personal data are audited (ADR 22)', () => {
  it('records every issue of a receipt and every read of a history, granted or refused, with nothing personal in it', async () => {
    const granted = await grant(grantRequest(), 'crisis-counsellor');
    // Recording consent is not a read.
    expect(await accessRecords(granted.subjectRef)).toEqual([]);

    const receipt = await callUnary(
      h.client.receipt.bind(h.client),
      { consentId: granted.consentId, language: 'en', discreet: false },
      h.as('crisis-counsellor'),
    );
    expect(receipt.text).toContain(syntheticName);
    const byPolice = await failure(
      callUnary(
        h.client.receipt.bind(h.client),
        { consentId: granted.consentId, language: 'en', discreet: false },
        h.as('peel-officer'),
      ),
    );
    // Another agency's consent answers as a made-up id does.
    expect(byPolice.code).toBe('not_found');
    const own = await callUnary(
      h.client.history.bind(h.client),
      { subjectRef: granted.subjectRef },
      h.as('crisis-counsellor'),
    );
    expect(own.consents[0]?.notes).toBe(syntheticNotes);
    await callUnary(h.client.history.bind(h.client), { subjectRef: granted.subjectRef }, h.as('auditor'));
    const refused = await failure(
      callUnary(h.client.history.bind(h.client), { subjectRef: granted.subjectRef }, h.as('pact-intake')),
    );
    expect(refused.code).toBe('permission_denied');

    const records = await accessRecords(granted.subjectRef);
    expect(records.length).toBeGreaterThan(0);
    expect(
      records.map(({ envelope }) => {
        const read = envelope.payload?.$case === 'accessRecorded' ? envelope.payload.value : undefined;
        return [read?.record, read?.outcome, envelope.actor?.user, read?.categories, read?.consentIds];
      }),
    ).toEqual([
      ['consent_receipt', 'granted', 'crisis-counsellor', ['identity'], [granted.consentId]],
      ['consent_receipt', 'denied', 'peel-officer', ['identity'], [granted.consentId]],
      ['consent_history', 'granted', 'crisis-counsellor', ['situation'], [granted.consentId]],
      ['consent_history', 'granted', 'auditor', [], [granted.consentId]],
      ['consent_history', 'denied', 'pact-intake', [], []],
    ]);
    for (const { raw } of records) {
      expect(raw.includes(Buffer.from('Synthetic'))).toBe(false);
      expect(raw.includes(Buffer.from('Qwzx'))).toBe(false);
    }
    // And they reach the audit stream, where the audit service takes them into its log.
    await waitUntil(async () => (await accessRecords(granted.subjectRef)).every((r) => r.published));
    const nc = await connect({ servers: h.nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = new Topology(h.nats.namespace).stream('audit').name;
      const { state } = await jsm.streams.info(stream);
      const onStream: string[] = [];
      for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
        const envelope = decodeEnvelope((await jsm.streams.getMessage(stream, { seq }))!.data);
        if (envelope.subjectRef === granted.subjectRef) onStream.push(envelope.id);
      }
      expect(onStream).toEqual(records.map((r) => r.envelope.id));
    } finally {
      await nc.close();
    }
  });
});

describe('GetConsent', () => {
  it('answers one consent to its recording agency and to oversight, to no one else, recording each read', async () => {
    const granted = await grant(grantRequest(), 'crisis-counsellor');
    const get = (user: string, consentId = granted.consentId) =>
      callUnary(h.client.getConsent.bind(h.client), { consentId }, h.as(user));
    const own = await get('crisis-counsellor');
    expect(own.consent?.id).toBe(granted.consentId);
    expect(own.consent?.subjectRef).toBe(granted.subjectRef);
    expect(own.consent?.scopes.length).toBeGreaterThan(0);
    // The capture notes are History's alone.
    expect(own.consent?.notes).toBe('');
    expect((await get('auditor')).consent?.id).toBe(granted.consentId);
    // Another agency's consent answers as a made-up id does.
    const other = await failure(get('pact-intake'));
    const madeUp = await failure(get('pact-intake', randomUUID()));
    expect([other.code, madeUp.code]).toEqual(['not_found', 'not_found']);
    expect((await failure(get('crisis-counsellor', 'not-a-uuid'))).code).toBe('invalid_argument');
    const reads = (await accessRecords(granted.subjectRef)).map(({ envelope }) => {
      const read = envelope.payload?.$case === 'accessRecorded' ? envelope.payload.value : undefined;
      return [read?.record, read?.outcome, envelope.actor?.user, read?.reason, read?.consentIds];
    });
    expect(reads).toEqual([
      ['consent_record', 'granted', 'crisis-counsellor', '', [granted.consentId]],
      ['consent_record', 'granted', 'auditor', '', [granted.consentId]],
      ['consent_record', 'denied', 'pact-intake', 'not_recording_agency', [granted.consentId]],
    ]);
  });
});

describe('Revoke', () => {
  it('takes effect on the very next Evaluate, and a second revocation says so', async () => {
    const granted = await grant(grantRequest());
    expect(categories(await evaluate(granted.subjectRef, 'london-coalition', 'referral'))).toHaveLength(3);
    const revoked = await callUnary(
      h.client.revoke.bind(h.client),
      {
        idempotencyKey: randomUUID(),
        consentId: granted.consentId,
        scopeIds: [],
        all: true,
        reason: 'person_withdrew',
      },
      h.as('london-intake'),
    );
    expect(revoked.alreadyRevoked).toBe(false);
    // Every read after the revocation committed allows nothing.
    for (let i = 0; i < 50; i++)
      expect((await evaluate(granted.subjectRef, 'london-coalition', 'referral')).allowed).toEqual([]);
    const again = await callUnary(
      h.client.revoke.bind(h.client),
      {
        idempotencyKey: randomUUID(),
        consentId: granted.consentId,
        scopeIds: [],
        all: true,
        reason: 'person_withdrew',
      },
      h.as('peel-officer'),
    );
    expect(again).toMatchObject({ alreadyRevoked: true, revokedScopeIds: [] });
  });

  it('revokes one scope and leaves the others', async () => {
    const granted = await grant(
      grantRequest({
        scopes: [
          grantRequest().scopes[0]!,
          { ...grantRequest().scopes[0]!, recipientAgencyIds: ['pact-ottawa'], categories: ['needs'] },
        ],
      }),
    );
    const [london] = granted.consent!.scopes;
    await callUnary(
      h.client.revoke.bind(h.client),
      {
        idempotencyKey: randomUUID(),
        consentId: granted.consentId,
        scopeIds: [london!.id],
        all: false,
        reason: 'person_withdrew',
      },
      h.as('peel-officer'),
    );
    expect((await evaluate(granted.subjectRef, 'london-coalition', 'referral')).allowed).toEqual([]);
    expect(categories(await evaluate(granted.subjectRef, 'pact-ottawa', 'referral'))).toEqual(['needs']);
  });

  it('answers NOT_FOUND for an unknown consent, and PERMISSION_DENIED to an agency it does not name', async () => {
    const missing = await failure(
      callUnary(
        h.client.revoke.bind(h.client),
        {
          idempotencyKey: randomUUID(),
          consentId: '0193a3c4-0000-7000-8000-00000000beef',
          scopeIds: [],
          all: true,
          reason: 'person_withdrew',
        },
        h.as('peel-officer'),
      ),
    );
    expect(missing.code).toBe('not_found');
    const granted = await grant(grantRequest());
    const stranger = await failure(
      callUnary(
        h.client.revoke.bind(h.client),
        {
          idempotencyKey: randomUUID(),
          consentId: granted.consentId,
          scopeIds: [],
          all: true,
          reason: 'person_withdrew',
        },
        h.as('pact-intake'),
      ),
    );
    expect(stranger.code).toBe('permission_denied');
    expect(stranger.message).toMatch(/only the agency that recorded this consent, or an agency it names/);
  });
});

describe('Receipts', () => {
  it('gives the person a plain-language receipt in English and French, signed', async () => {
    const granted = await grant(grantRequest({ language: 'fr' }));
    expect(granted.receipt?.language).toBe('fr');
    const en = await callUnary(
      h.client.receipt.bind(h.client),
      { consentId: granted.consentId, language: 'en', discreet: false },
      h.as('peel-officer'),
    );
    expect(en.text).toContain(`For: ${syntheticName}`);
    expect(en.text).toContain(
      'London Anti-Human Trafficking Coalition may see your name and identity, safe times and ways to reach you and needs',
    );
    expect(en.text).toContain('You can change your mind at any time');
    const fr = await callUnary(
      h.client.receipt.bind(h.client),
      { consentId: granted.consentId, language: 'fr', discreet: false },
      h.as('peel-officer'),
    );
    expect(fr.text).toContain('Coalition de London contre la traite des personnes peut consulter vos nom et identité');
    expect(fr.text).toContain('Vous pouvez changer d’avis à tout moment');

    // The discreet variant (ADR 35): no service named, no marker word; the signed receipt unchanged.
    const discreet = await callUnary(
      h.client.receipt.bind(h.client),
      { consentId: granted.consentId, language: 'en', discreet: true },
      h.as('peel-officer'),
    );
    expect(discreet.text).toContain('Service A may see your name and identity');
    expect(discreetMarkers.filter((marker) => marker.test(discreet.text))).toEqual([]);
    expect(discreet.receiptJson).toBe(en.receiptJson);

    const key = publicKeyFromRaw(Buffer.from(en.signingPublicKey, 'base64'));
    const payload = verifyJws(en.receiptJws, (kid) => (kid === en.signingKeyId ? key : undefined)) as Record<
      string,
      unknown
    >;
    expect(payload).toEqual(JSON.parse(en.receiptJson));
    expect(payload).toMatchObject({
      jurisdiction: 'ON-CA',
      collectionMethod: 'verbal',
      consentReceiptID: granted.consentId,
    });
    // The machine-readable receipt carries the pseudonym, not the name.
    expect(en.receiptJson).not.toContain(syntheticName);

    // Change any one byte of the header, the receipt or the signature: it no longer verifies.
    // (Bytes, not base64 characters: a signature's last character carries padding bits.)
    const parts = en.receiptJws.split('.').map((part) => Buffer.from(part, 'base64url'));
    parts.forEach((bytes, p) => {
      for (let i = 0; i < bytes.length; i++) {
        const changed = Buffer.from(bytes);
        changed[i] = changed[i]! ^ 0x01;
        const token = parts.map((part, q) => (q === p ? changed : part).toString('base64url')).join('.');
        expect(() => verifyJws(token, () => key), `part ${p}, byte ${i}`).toThrow();
      }
    });
  });
});

describe('History and erasure', () => {
  it('erases a subject by crypto-shredding: nothing personal survives, the history does', async () => {
    const granted = await grant(grantRequest());
    const subject = granted.subjectRef;
    await callUnary(
      h.client.revoke.bind(h.client),
      {
        idempotencyKey: randomUUID(),
        consentId: granted.consentId,
        scopeIds: [],
        all: true,
        reason: 'person_withdrew',
      },
      h.as('london-intake'),
    );
    const { rows } = await sql.query('select receipt_name from consent.consents where id = $1', [granted.consentId]);
    const ciphertext = rows[0].receipt_name as Buffer;
    expect(ciphertext.includes(Buffer.from(syntheticName))).toBe(false);

    const notAdmin = await failure(
      callUnary(
        h.client.eraseSubject.bind(h.client),
        { idempotencyKey: randomUUID(), subjectRef: subject, reason: 'person_requested_erasure' },
        h.as('peel-officer'),
      ),
    );
    expect(notAdmin.code).toBe('permission_denied');
    const erased = await callUnary(
      h.client.eraseSubject.bind(h.client),
      { idempotencyKey: randomUUID(), subjectRef: subject, reason: 'person_requested_erasure' },
      h.as('admin'),
    );
    expect(erased).toEqual({ erased: true, alreadyErased: false });
    const twice = await callUnary(
      h.client.eraseSubject.bind(h.client),
      { idempotencyKey: randomUUID(), subjectRef: subject, reason: 'person_requested_erasure' },
      h.as('admin'),
    );
    expect(twice.alreadyErased).toBe(true);

    // The whole database, as a backup would hold it.
    await waitUntil(
      async () =>
        (await sql.query('select count(*)::int as n from consent.outbox where published_at is null')).rows[0].n === 0,
    );
    const dump = execFileSync('pg_dump', ['--data-only', '--dbname', h.db.url], { maxBuffer: 256 * 1024 * 1024 });
    expect(dump.includes(Buffer.from(syntheticName))).toBe(false);
    expect(dump.includes(Buffer.from(syntheticNotes))).toBe(false);
    expect(dump.includes(Buffer.from('Qwzx'))).toBe(false);

    // A copy of the ciphertext taken before erasure (a backup) no longer decrypts: its key is gone.
    const keyStore = await openKeyStore({
      url: h.db.url,
      service: 'consent',
      env: 'development',
      log: createLogger('test', 'silent'),
    });
    try {
      const vault = new SubjectCrypto(parseKeyRing(h.kek));
      expect(
        await vault.decrypt(keyStore.keys(), subject, `consent:${granted.consentId}:receipt_name`, ciphertext),
      ).toBe(shredded);
    } finally {
      await keyStore.close();
    }

    const history = await callUnary(h.client.history.bind(h.client), { subjectRef: subject }, h.as('auditor'));
    expect(history.erased).toBe(true);
    expect(history.consents.map((c) => c.id)).toEqual([granted.consentId]);
    expect(history.changes.map((c) => [c.change, c.actor?.userId])).toEqual([
      ['granted', 'peel-officer'],
      ['revoked', 'london-intake'],
      ['subject_erased', 'admin'],
    ]);
    expect(history.changes.at(-1)?.at).toBeInstanceOf(Date);
    expect((await evaluate(subject, 'london-coalition', 'referral')).allowed).toEqual([]);
    const receipt = await callUnary(
      h.client.receipt.bind(h.client),
      { consentId: granted.consentId, language: 'en', discreet: false },
      h.as('peel-officer'),
    );
    expect(receipt.text).not.toContain(syntheticName);
  });

  it('shows an agency only the history it recorded', async () => {
    const granted = await grant(grantRequest(), 'crisis-counsellor');
    const own = await callUnary(
      h.client.history.bind(h.client),
      { subjectRef: granted.subjectRef },
      h.as('crisis-counsellor'),
    );
    expect(own.consents).toHaveLength(1);
    // The capture notes come back to the agency that wrote them, and to nobody else.
    expect(own.consents[0]?.notes).toBe(syntheticNotes);
    const audited = await callUnary(
      h.client.history.bind(h.client),
      { subjectRef: granted.subjectRef },
      h.as('auditor'),
    );
    expect(audited.consents[0]?.notes).toBe('');
    const other = await failure(
      callUnary(h.client.history.bind(h.client), { subjectRef: granted.subjectRef }, h.as('pact-intake')),
    );
    expect(other.code).toBe('permission_denied');
  });
});

describe('Events', () => {
  it('publishes granted, revoked, expired and subject_erased with no personal data', async () => {
    // One person, two consents: one revoked, one left to expire; then the person is erased.
    const revoked = await grant(grantRequest());
    const { subjectRef } = revoked;
    const expiring = await grant(grantRequest({ subjectRef, expiresAt: inDays(1) }));
    await callUnary(
      h.client.revoke.bind(h.client),
      {
        idempotencyKey: randomUUID(),
        consentId: revoked.consentId,
        scopeIds: [],
        all: true,
        reason: 'person_withdrew',
      },
      h.as('peel-officer'),
    );
    // The service's clock moves two days on, so the expiry sweep finds the consent due.
    h.advanceClock(2 * 86_400_000);
    try {
      await waitUntil(
        async () =>
          (
            await sql.query(
              "select count(*)::int as n from consent.changes where change = 'expired' and consent_id = $1",
              [expiring.consentId],
            )
          ).rows[0].n === 1,
      );
    } finally {
      h.advanceClock(-2 * 86_400_000);
    }
    await callUnary(
      h.client.eraseSubject.bind(h.client),
      { idempotencyKey: randomUUID(), subjectRef, reason: 'person_requested_erasure' },
      h.as('admin'),
    );
    await waitUntil(
      async () =>
        (await sql.query('select count(*)::int as n from consent.outbox where published_at is null')).rows[0].n === 0,
    );

    const nc = await connect({ servers: h.nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = new Topology(h.nats.namespace).stream('consent').name;
      const { state } = await jsm.streams.info(stream);
      const types: string[] = [];
      for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
        const message = await jsm.streams.getMessage(stream, { seq });
        expect(Buffer.from(message!.data).includes(Buffer.from('Synthetic'))).toBe(false);
        expect(Buffer.from(message!.data).includes(Buffer.from('Qwzx'))).toBe(false);
        const envelope = decodeEnvelope(message!.data);
        if (envelope.subjectRef === subjectRef) types.push(envelope.type);
      }
      expect(types.sort()).toEqual([
        'consent.v1.expired',
        'consent.v1.granted',
        'consent.v1.granted',
        'consent.v1.revoked',
        'consent.v1.subject_erased',
      ]);
    } finally {
      await nc.close();
    }
  });
});

describe('who may add to or read a consent', () => {
  it('lets only an agency that recorded consent for a person add to it', async () => {
    const first = await grant(grantRequest());
    const another = await grant(grantRequest({ subjectRef: first.subjectRef }), 'tps-officer').catch(
      (e: unknown) => e as PassageError,
    );
    expect((another as PassageError).code).toBe('not_found');
    const same = await grant(grantRequest({ subjectRef: first.subjectRef }));
    expect(same.subjectRef).toBe(first.subjectRef);
    const unknown = await failure(grant(grantRequest({ subjectRef: '0193a3c4-0000-7000-8000-00000000f00d' })));
    expect(unknown.code).toBe('not_found');
  });

  it('keeps the receipt, which carries the name, to the recording agency', async () => {
    const granted = await grant(grantRequest());
    const byAdmin = await failure(
      callUnary(
        h.client.receipt.bind(h.client),
        { consentId: granted.consentId, language: 'en', discreet: false },
        h.as('admin'),
      ),
    );
    expect(byAdmin.code).toBe('permission_denied');
  });

  it('lets an agency the consent names withdraw its own scopes, or the whole consent for the person (ADR 36)', async () => {
    const granted = await grant(
      grantRequest({
        scopes: [grantRequest().scopes[0]!, { ...grantRequest().scopes[0]!, recipientAgencyIds: ['pact-ottawa'] }],
      }),
    );
    const [london, pact] = granted.consent!.scopes;
    const revoke = (scopeIds: string[], all: boolean) =>
      callUnary(
        h.client.revoke.bind(h.client),
        { idempotencyKey: randomUUID(), consentId: granted.consentId, scopeIds, all, reason: 'person_withdrew' },
        h.as('london-intake'),
      );
    // It is shown only the scopes naming it: another agency's scope is not its to name.
    const otherScope = await failure(revoke([pact!.id], false));
    expect(otherScope.code).toBe('permission_denied');
    const own = await revoke([london!.id], false);
    expect(own.revokedScopeIds).toEqual([london!.id]);
    expect(categories(await evaluate(granted.subjectRef, 'pact-ottawa', 'referral'))).toHaveLength(3);
    // The person tells it they withdraw: the whole consent ends, as the receipt promises.
    const all = await revoke([], true);
    expect(all.revokedScopeIds).toEqual([pact!.id]);
    expect(all.consent?.revokedAt).toBeDefined();
    expect(categories(await evaluate(granted.subjectRef, 'pact-ottawa', 'referral'))).toEqual([]);
    const history = await callUnary(
      h.client.history.bind(h.client),
      { subjectRef: granted.subjectRef },
      h.as('peel-officer'),
    );
    expect(history.changes.map((c) => [c.change, c.actor?.agencyId, c.actor?.userId])).toEqual([
      ['granted', 'peel-regional-police', 'peel-officer'],
      ['scope_revoked', 'london-coalition', 'london-intake'],
      ['revoked', 'london-coalition', 'london-intake'],
    ]);
  });
});
