import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TokenIssuer, demoUsers, developmentIssuer } from '@passage/auth';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { directory as pb, type events } from '@passage/contracts';
import { bearerMetadata, callUnary, type PassageError } from '@passage/platform';
import { Topology, decodeEnvelope } from '@passage/events';
import {
  healthStatus,
  plaintextCredentials,
  reflectedServices,
  type TestNats,
  failureOf,
  waitFor,
  waitUntil,
} from '@passage/testing';
import { ontarioAgencies } from '../src/seed/ontario.ts';
import type { RunningDirectory } from '../src/service.ts';
import { startTestDirectory, testAdminToken, type TestDirectory } from './support.ts';

let directory: TestDirectory;
let service: RunningDirectory;
let nats: TestNats;
let client: pb.DirectoryServiceClient;
let bus: NatsConnection;

beforeAll(async () => {
  directory = await startTestDirectory('directory', { DIRECTORY_SEED: 'ontario' });
  ({ service, nats } = directory);
  client = new pb.DirectoryServiceClient(service.address, plaintextCredentials());
  bus = await connect({ servers: nats.url });
});

afterAll(async () => {
  client?.close();
  await bus?.close();
  await directory?.stop();
});

const admin = () => bearerMetadata(testAdminToken);
const topology = () => new Topology(nats.namespace);

const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);

async function directoryEvents(): Promise<events.AgencyChanged[]> {
  const jsm = await jetstream(bus).jetstreamManager();
  const stream = topology().stream('directory').name;
  const { state } = await jsm.streams.info(stream);
  const out: events.AgencyChanged[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq });
    const envelope = decodeEnvelope(message!.data);
    if (envelope.payload?.$case === 'agencyChanged') out.push(envelope.payload.value);
  }
  return out;
}

/** Waits until the relay has published every committed event. */
async function outboxDrained(): Promise<void> {
  const sql = new pg.Client({ connectionString: directory.db.url });
  await sql.connect();
  try {
    await waitUntil(async () => {
      const { rows } = await sql.query<{ n: number }>(
        'select count(*)::int as n from directory.outbox where published_at is null',
      );
      return rows[0]!.n === 0;
    }, 10_000);
  } finally {
    await sql.end();
  }
}

/** The directory's events once at least `count` are in the stream; fails after 10 s. */
function waitForEvents(count: number): Promise<events.AgencyChanged[]> {
  return waitFor(directoryEvents, (events) => events.length >= count, 10_000);
}

/** How many rows the directory's outbox holds, published or not. */
async function outboxRows(): Promise<number> {
  const sql = new pg.Client({ connectionString: directory.db.url });
  await sql.connect();
  try {
    const { rows } = await sql.query<{ n: number }>('select count(*)::int as n from directory.outbox');
    return rows[0]!.n;
  } finally {
    await sql.end();
  }
}

const seededIds = ontarioAgencies.map((agency) => agency.id).sort();

describe('directory service over gRPC', () => {
  it('answers grpc.health.v1 SERVING and lists its service through reflection', async () => {
    expect(await healthStatus(service.address)).toBe('SERVING');
    expect(await healthStatus(service.address, 'passage.directory.v1.DirectoryService')).toBe('SERVING');
    const listed = await reflectedServices(service.address);
    expect(listed).toContain('passage.directory.v1.DirectoryService');
    expect(listed).not.toContain('passage.consent.v1.ConsentService');
  });

  it('lists the seeded Ontario agencies and filters them', async () => {
    const all = await callUnary(client.listAgencies.bind(client), { kind: '', region: '', service: '', language: '' });
    expect(all.agencies.map((a) => a.id).sort()).toEqual(seededIds);
    const police = await callUnary(client.listAgencies.bind(client), {
      kind: 'police',
      region: '',
      service: '',
      language: '',
    });
    expect(police.agencies.map((a) => a.id).sort()).toEqual(['opp', 'peel-regional-police', 'toronto-police-service']);
    const french = await callUnary(client.listAgencies.bind(client), {
      kind: 'coalition',
      region: '',
      service: '',
      language: 'fr',
    });
    expect(french.agencies.map((a) => a.id).sort()).toEqual(['pact-ottawa', 'windsor-essex-ahtag']);
  });

  it('published one directory.v1.agency_upserted per seeded agency through the outbox', async () => {
    // The seed runs before the service serves, so its events come first whatever ran before.
    const events = await waitForEvents(ontarioAgencies.length);
    expect(
      events
        .slice(0, ontarioAgencies.length)
        .map((e) => e.agencyId)
        .sort(),
    ).toEqual(seededIds);
  });

  it('matches London at 3 a.m. to the crisis line first', async () => {
    const response = await callUnary(client.match.bind(client), {
      needs: ['counselling'],
      municipality: 'london',
      fsa: '',
      language: '',
      priority: pb.Priority.PRIORITY_URGENT,
      at: new Date('2026-12-01T08:00:00Z'),
    });
    expect(response.afterHours).toBe(true);
    expect(response.candidates[0]?.agency?.id).toBe('ontario-ht-crisis-line');
    expect(response.passedOver.find((p) => p.agencyId === 'london-coalition')?.reasons).toEqual([
      'closed_at_that_hour',
    ]);
  });

  it('answers INVALID_ARGUMENT naming the field for an unknown need or a malformed FSA', async () => {
    const unknownNeed = await failure(
      callUnary(client.match.bind(client), {
        needs: ['counselling', 'astrology'],
        municipality: 'london',
        fsa: '',
        language: '',
        priority: pb.Priority.PRIORITY_STANDARD,
        at: undefined,
      }),
    );
    expect(unknownNeed.code).toBe('invalid_argument');
    expect(unknownNeed.message).toMatch(/^needs\[1\]: unknown need "astrology"/);

    const badFsa = await failure(
      callUnary(client.match.bind(client), {
        needs: ['counselling'],
        municipality: '',
        fsa: 'N7',
        language: '',
        priority: pb.Priority.PRIORITY_STANDARD,
        at: undefined,
      }),
    );
    expect(badFsa.code).toBe('invalid_argument');
    expect(badFsa.message).toMatch(/^fsa: "N7" is not a forward sortation area/);
  });

  it('refuses UpsertAgency without a signed identity or the admin role, and writes nothing', async () => {
    const { agency } = await callUnary(client.getAgency.bind(client), { id: 'pact-ottawa' });
    const change = { agency: { ...agency!, acceptingReferrals: false } };
    const anonymous = await failure(callUnary(client.upsertAgency.bind(client), change));
    expect(anonymous.code).toBe('unauthenticated');
    // The static admin token of old (ADR 8) is no identity.
    const staticToken = await failure(
      callUnary(client.upsertAgency.bind(client), change, bearerMetadata('test-admin-token-0123456789')),
    );
    expect(staticToken.code).toBe('unauthenticated');
    const intake = bearerMetadata(developmentIssuer().issue(demoUsers['pact-intake']!));
    const notAdmin = await failure(callUnary(client.upsertAgency.bind(client), change, intake));
    expect(notAdmin.code).toBe('permission_denied');
    const after = await callUnary(client.getAgency.bind(client), { id: 'pact-ottawa' });
    expect(after.agency).toEqual(agency);
  });

  it('updates a listing for an admin, bumps its version and publishes the change', async () => {
    const before = await waitForEvents(ontarioAgencies.length);
    const { agency } = await callUnary(client.getAgency.bind(client), { id: 'windsor-essex-ahtag' });
    const updated = await callUnary(
      client.upsertAgency.bind(client),
      { agency: { ...agency!, acceptingReferrals: false, capacity: 0 } },
      admin(),
    );
    expect(updated.created).toBe(false);
    expect(updated.agency?.version).toBe(agency!.version + 1);
    const events = await waitForEvents(before.length + 1);
    expect(events.at(-1)).toEqual({
      agencyId: 'windsor-essex-ahtag',
      kind: 'coalition',
      version: agency!.version + 1,
      acceptingReferrals: false,
      source: 'upsert',
      nameEn: agency!.nameEn,
      nameFr: agency!.nameFr,
      region: 'windsor-essex',
      // Its opening hours, so the audit log can tell an after-hours referral (ADR 42).
      alwaysOpen: agency!.hours!.alwaysOpen,
      hours: agency!.hours!.periods.map(({ day, opens, closes }) => ({ day, opens, closes })),
    });
    expect(agency!.hours!.periods.length).toBeGreaterThan(0);
    // Restore the listing for the tests that follow.
    await callUnary(client.upsertAgency.bind(client), { agency: agency! }, admin());
  });

  it('applies simultaneous changes of one agency one after the other, each its own version', async () => {
    const { agency } = await callUnary(client.getAgency.bind(client), { id: 'sarnia-lambton-committee' });
    const capacities = [11, 12, 13, 14];
    const answers = await Promise.all(
      capacities.map((capacity) =>
        callUnary(client.upsertAgency.bind(client), { agency: { ...agency!, capacity } }, admin()),
      ),
    );
    const versions = answers.map((answer) => answer.agency!.version).sort((a, b) => a - b);
    expect(versions).toEqual(capacities.map((_, index) => agency!.version + 1 + index));
    // Each version's own event (an earlier test's last change may still be on its way: not counted).
    const mine = (
      await waitFor(
        directoryEvents,
        (events) =>
          versions.every((version) =>
            events.some((event) => event.agencyId === 'sarnia-lambton-committee' && event.version === version),
          ),
        10_000,
      )
    ).filter((event) => event.agencyId === 'sarnia-lambton-committee' && event.version > agency!.version);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.map((event) => event.version).sort((a, b) => a - b)).toEqual(versions);
    // What the directory keeps is what its newest event says.
    const { agency: stored } = await callUnary(client.getAgency.bind(client), { id: 'sarnia-lambton-committee' });
    const newest = answers.find((answer) => answer.agency!.version === versions.at(-1))!;
    expect(stored!.capacity).toBe(newest.agency!.capacity);
    await callUnary(client.upsertAgency.bind(client), { agency: agency! }, admin());
  });

  it('rejects an invalid listing with every bad field named and changes nothing', async () => {
    const { agency } = await callUnary(client.getAgency.bind(client), { id: 'london-coalition' });
    const invalid = await failure(
      callUnary(
        client.upsertAgency.bind(client),
        { agency: { ...agency!, kind: 'vigilante', languages: [], coverage: { ...agency!.coverage!, fsas: ['Q1Q'] } } },
        admin(),
      ),
    );
    expect(invalid.code).toBe('invalid_argument');
    expect(invalid.message).toContain('agency.kind');
    expect(invalid.message).toContain('agency.coverage.fsas[0]');
    expect(invalid.message).toContain('agency.languages');
    expect((await callUnary(client.getAgency.bind(client), { id: 'london-coalition' })).agency).toEqual(agency);
  });

  it('refuses hand-off targets that are missing, not positive or, when urgent, longer than a week', async () => {
    const { agency } = await callUnary(client.getAgency.bind(client), { id: 'london-coalition' });
    const sla = agency!.sla!;
    const refused = await failure(
      callUnary(
        client.upsertAgency.bind(client),
        {
          agency: {
            ...agency!,
            sla: { ...sla, acknowledgeUrgentMinutes: 0, acceptUrgentMinutes: 8 * 24 * 60, acceptStandardMinutes: -5 },
          },
        },
        admin(),
      ),
    );
    expect(refused.code).toBe('invalid_argument');
    // The proto's field rules: present and at least a minute.
    expect(refused.message).toContain('agency.sla.acknowledgeUrgentMinutes: required');
    expect(refused.message).toContain('agency.sla.acceptStandardMinutes: at least 1');
    // The directory's own rule, past the field rules: an urgent target of at most a week.
    const tooLong = await failure(
      callUnary(
        client.upsertAgency.bind(client),
        { agency: { ...agency!, sla: { ...sla, acceptUrgentMinutes: 8 * 24 * 60 } } },
        admin(),
      ),
    );
    expect(tooLong.message).toContain('agency.sla.accept_urgent_minutes: an urgent target of at most a week');
    const missing = await failure(
      callUnary(client.upsertAgency.bind(client), { agency: { ...agency!, sla: undefined } }, admin()),
    );
    expect(missing.code).toBe('invalid_argument');
    expect((await callUnary(client.getAgency.bind(client), { id: 'london-coalition' })).agency).toEqual(agency);
  });

  it('keeps its tables under its owner role and works logged in as its runtime role, which owns nothing', async () => {
    const sql = new pg.Client({ connectionString: directory.db.url });
    await sql.connect();
    try {
      const { rows } = await sql.query<{ owner: string }>(
        "select distinct tableowner as owner from pg_tables where schemaname = 'directory'",
      );
      expect(rows).toEqual([{ owner: 'passage_directory_owner' }]);
      const { rows: logins } = await sql.query<{ login: string }>(
        'select distinct usename as login from pg_stat_activity where datname = $1 and usename <> current_user',
        [directory.db.name],
      );
      expect(logins).toEqual([{ login: 'passage_directory' }]);
    } finally {
      await sql.end();
    }
  });

  it('answers NOT_FOUND for an unknown agency', async () => {
    const missing = await failure(callUnary(client.getAgency.bind(client), { id: 'no-such-agency' }));
    expect(missing.code).toBe('not_found');
  });

  it('round-trips the seeded directory through HSDS export and import unchanged', async () => {
    const before = await callUnary(client.listAgencies.bind(client), {
      kind: '',
      region: '',
      service: '',
      language: '',
    });
    await outboxDrained();
    const eventsBefore = (await directoryEvents()).length;
    const outboxBefore = await outboxRows();
    const exported = await callUnary(client.exportHsds.bind(client), {});
    const imported = await callUnary(client.importHsds.bind(client), { json: exported.json }, admin());
    expect(imported.imported).toBe(ontarioAgencies.length);
    const after = await callUnary(client.listAgencies.bind(client), {
      kind: '',
      region: '',
      service: '',
      language: '',
    });
    expect(after.agencies).toEqual(before.agencies);
    expect((await callUnary(client.exportHsds.bind(client), {})).json).toBe(exported.json);
    // Nothing changed, so nothing was written to the outbox, and nothing was published.
    expect(await outboxRows()).toBe(outboxBefore);
    await outboxDrained();
    expect((await directoryEvents()).length).toBe(eventsBefore);
  });

  it('rejects an HSDS document with errors whole, listing each error with its JSON path', async () => {
    const exported = JSON.parse((await callUnary(client.exportHsds.bind(client), {})).json) as {
      organizations: Array<{ name: string; x_passage: { kind: string; accepting_referrals: boolean } }>;
    };
    exported.organizations[0]!.x_passage.accepting_referrals = false; // a valid change that must not land
    exported.organizations[1]!.x_passage.kind = 'vigilante';
    exported.organizations[2]!.x_passage.kind = 'cult';
    const rejected = await failure(
      callUnary(client.importHsds.bind(client), { json: JSON.stringify(exported) }, admin()),
    );
    expect(rejected.code).toBe('invalid_argument');
    expect(rejected.message).toContain('2 error(s); nothing was imported');
    expect(rejected.message).toContain('$.organizations[1].x_passage.kind');
    expect(rejected.message).toContain('$.organizations[2].x_passage.kind');
    const first = await callUnary(client.getAgency.bind(client), { id: 'crown-ht-specialists' });
    expect(first.agency?.acceptingReferrals).toBe(true);
  });

  it('refuses a bidirectional override written as a JSON escape inside an HSDS document', async () => {
    const exported = JSON.parse((await callUnary(client.exportHsds.bind(client), {})).json) as {
      organizations: Array<{ name: string }>;
    };
    const original = exported.organizations[0]!.name;
    exported.organizations[0]!.name = `${original}\u202e`;
    // JSON.stringify writes U+202E as is; the escape form is what slips past a check of the text.
    const json = JSON.stringify(exported).replace('\u202e', '\\u202e');
    expect(json).toContain('\\u202e');
    const rejected = await failure(callUnary(client.importHsds.bind(client), { json }, admin()));
    expect(rejected.code).toBe('invalid_argument');
    expect(rejected.message).toMatch(/json\.listings\[0\]\.name\.en: control characters and bidirectional overrides/);
    const { agencies } = await callUnary(client.listAgencies.bind(client), {
      kind: '',
      region: '',
      service: '',
      language: '',
    });
    expect(agencies.length).toBeGreaterThan(0);
    expect(agencies.some((agency) => agency.nameEn.includes('\u202e'))).toBe(false);
  });
});

describe('directory admin with caller tokens', () => {
  it('accepts a signed admin token and refuses a signed non-admin one', async () => {
    const issuer = new TokenIssuer('t', randomBytes(32));
    const signed = await startTestDirectory('dirtokens', { AUTH_PUBLIC_KEYS: issuer.publicKeySetting });
    const signedClient = new pb.DirectoryServiceClient(signed.service.address, plaintextCredentials());
    try {
      const listing = {
        ...(await callUnary(client.getAgency.bind(client), { id: 'pact-ottawa' })).agency!,
        version: 0,
      };
      const denied = await failure(
        callUnary(
          signedClient.upsertAgency.bind(signedClient),
          { agency: listing },
          bearerMetadata(issuer.issue(demoUsers['pact-intake']!)),
        ),
      );
      expect(denied.code).toBe('permission_denied');
      const created = await callUnary(
        signedClient.upsertAgency.bind(signedClient),
        { agency: listing },
        bearerMetadata(issuer.issue(demoUsers['admin']!)),
      );
      expect(created.created).toBe(true);
    } finally {
      signedClient.close();
      await signed.stop();
    }
  });
});
