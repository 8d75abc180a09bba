import { randomBytes, randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { TokenIssuer, demoUsers, type Caller } from '@passage/auth';
import { audit } from '@passage/contracts';
import { Topology, createEnvelope, encodeEnvelope, ensureStreams, type Envelope } from '@passage/events';
import { bearerMetadata, createLogger, loadConfig, withLogin, type ClientCredentials } from '@passage/platform';
import { migratedTemplate, testTls } from '@passage/platform/testing';
import { createTestDatabase, createTestNats, waitUntil, type TestDatabase, type TestNats } from '@passage/testing';
import pg from 'pg';
import { auditDatabases } from '../migrations/index.ts';
import { auditConfigSchema, type AuditConfig } from '../src/config.ts';
import { startAudit, type RunningAudit } from '../src/service.ts';

export interface AuditLab {
  readonly db: TestDatabase;
  readonly nats: TestNats;
  readonly topology: Topology;
  /** The test's own connection to the lab's NATS, its streams ensured. */
  readonly nc: NatsConnection;
  /** The service's settings, its certificate (GRPC_TLS_*_FILE) included. */
  readonly env: Record<string, string>;
  readonly service: RunningAudit | undefined;
  /** A test client's mutual-TLS credentials: the service speaks only mutual TLS, as in production. */
  readonly credentials: ClientCredentials;
  readonly client: audit.AuditServiceClient | undefined;
  /** As the database superuser: sees everything, can tamper (tests only). */
  readonly sql: pg.Client;
  as(user: keyof typeof demoUsers | Caller): ReturnType<typeof bearerMetadata>;
  /** A bearer token for the user, signed by the lab's issuer (what PASSAGE_TOKEN takes). */
  token(user: keyof typeof demoUsers | Caller): string;
  publish(envelope: Envelope, subject: string): Promise<void>;
  publishRaw(subject: string, data: Uint8Array): Promise<void>;
  entries(): Promise<number>;
  /** A connection as the audit service's own runtime login role (passage_audit). */
  serviceRoleUrl(): Promise<string>;
  stop(): Promise<void>;
}

export async function startAuditLab(
  label: string,
  options: { service?: boolean; config?: Partial<Record<keyof AuditConfig, string>> } = {},
): Promise<AuditLab> {
  // With the service: its schema already migrated (a copy of a template database). Without it, empty:
  // the tests that run the migration job themselves (an older schema first, a crash mid-job).
  const db = await createTestDatabase(
    label,
    options.service === false ? {} : { template: migratedTemplate([auditDatabases]) },
  );
  const nats = await createTestNats(label);
  const topology = new Topology(nats.namespace);
  const issuer = new TokenIssuer('test', randomBytes(32));
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    // Provisions its own schema with this superuser URL, then logs in as passage_audit (ADR 28).
    PASSAGE_ENV: 'development',
    NATS_URL: nats.url,
    NATS_NAMESPACE: nats.namespace,
    GRPC_PORT: '0',
    ...testTls('audit').env,
    AUTH_PUBLIC_KEYS: issuer.publicKeySetting,
    AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
    AUDIT_ORIGIN: 'passage.test/audit',
    AUDIT_CHECKPOINT_EVERY: '50',
    AUDIT_CHECKPOINT_SECONDS: '0.5',
    ...options.config,
  };
  const nc: NatsConnection = await connect({ servers: nats.url });
  await ensureStreams(nc, topology.allStreams());
  const js: JetStreamClient = jetstream(nc);
  const log = createLogger(`${label}-test`, process.env['LOG_LEVEL'] ?? 'silent');
  const service = options.service === false ? undefined : await startAudit(loadConfig(auditConfigSchema, env), log);
  const credentials = testTls().clientCredentials;
  const client = service ? new audit.AuditServiceClient(service.address, credentials) : undefined;
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  return {
    db,
    nats,
    topology,
    nc,
    env,
    service,
    credentials,
    client,
    sql,
    as: (user) => bearerMetadata(issuer.issue(typeof user === 'string' ? demoUsers[user]! : user)),
    token: (user) => issuer.issue(typeof user === 'string' ? demoUsers[user]! : user),
    async publish(envelope, subject) {
      await js.publish(subject, encodeEnvelope(envelope), { msgID: envelope.id });
    },
    async publishRaw(subject, data) {
      await js.publish(subject, data, { msgID: randomUUID() });
    },
    async entries() {
      const { rows } = await sql.query<{ n: number }>(
        `select count(*)::int as n from pg_tables where schemaname = 'audit' and tablename = 'entries'`,
      );
      if (rows[0]!.n === 0) return 0;
      const counted = await sql.query<{ n: number }>('select count(*)::int as n from audit.entries');
      return counted.rows[0]!.n;
    },
    serviceRoleUrl: () => Promise.resolve(withLogin(db.url, 'passage_audit')),
    async stop() {
      client?.close();
      await service?.shutdown.run();
      await sql.end();
      await nc.close();
      await nats.cleanup();
      await db.drop();
    },
  };
}

export async function waitForEntries(lab: AuditLab, count: number, timeoutMs = 20_000): Promise<void> {
  await waitUntil(async () => (await lab.entries()) >= count, timeoutMs);
}

/** Synthetic referral events with chosen hand-off times: ids and codes only. */
export interface ReferralStory {
  readonly id?: string;
  readonly from: string;
  readonly to: string;
  readonly priority?: 'standard' | 'urgent';
  readonly needs?: readonly string[];
  readonly sentAt: Date;
  readonly acknowledgeDueMinutes: number;
  readonly acceptDueMinutes: number;
  /** Minutes after sending; absent stages never happened. */
  readonly acknowledged?: number;
  readonly accepted?: number;
  readonly contact?: number;
  readonly closed?: number;
  readonly closeOutcome?: string;
  readonly declined?: number;
  readonly withdrawn?: number;
  readonly withdrawReason?: string;
  /** The person (a fresh one when absent) and the consent the referral was sent under. */
  readonly subjectRef?: string;
  readonly consentId?: string;
  /** The referral this one sends on again (a resend). */
  readonly previousReferralId?: string;
  /** Its short reference (R-7K3M-Q9), on every event as the referrals service writes it. */
  readonly reference?: string;
}

const minutes = (from: Date, n: number | undefined): Date | undefined =>
  n === undefined ? undefined : new Date(from.getTime() + n * 60_000);

/** The events a referral's history would have put on the bus, in order. */
export function referralEvents(story: ReferralStory, topology: Topology): { subject: string; envelope: Envelope }[] {
  const id = story.id ?? randomUUID();
  const subjectRef = story.subjectRef ?? randomUUID();
  const at = {
    sent: story.sentAt,
    acknowledged: minutes(story.sentAt, story.acknowledged),
    accepted: minutes(story.sentAt, story.accepted),
    in_contact: minutes(story.sentAt, story.contact),
    closed: minutes(story.sentAt, story.closed),
    declined: minutes(story.sentAt, story.declined),
    withdrawn: minutes(story.sentAt, story.withdrawn),
  };
  const steps = (Object.entries(at) as [keyof typeof at, Date | undefined][])
    .filter((step): step is [keyof typeof at, Date] => step[1] !== undefined)
    .sort((a, b) => a[1].getTime() - b[1].getTime());
  const seen: Partial<Record<keyof typeof at, Date>> = {};
  return steps.map(([state, when], i) => {
    seen[state] = when;
    const event = state === 'in_contact' ? 'contact_recorded' : state;
    const reason =
      state === 'closed'
        ? (story.closeOutcome ?? 'services_provided')
        : state === 'withdrawn'
          ? (story.withdrawReason ?? 'other')
          : '';
    return {
      subject: topology.referral(story.from, story.to, event),
      envelope: createEnvelope({
        type: `referral.v1.${event}`,
        occurredAt: when,
        actor: { agency: i === 0 ? story.from : story.to, user: 'synthetic-user', role: 'intake_worker' },
        referralId: id,
        subjectRef,
        consentId: story.consentId ?? '',
        fromAgency: story.from,
        toAgency: story.to,
        priority: story.priority ?? 'standard',
        payload: {
          $case: 'referralChanged',
          value: {
            assignedUser: '',
            referralId: id,
            state,
            version: i + 1,
            takenOverBy: '',
            sentAt: story.sentAt,
            acknowledgedAt: seen.acknowledged,
            acceptedAt: seen.accepted,
            contactAt: seen.in_contact,
            closedAt: seen.closed,
            declinedAt: seen.declined,
            withdrawnAt: seen.withdrawn,
            acknowledgeDueAt: minutes(story.sentAt, story.acknowledgeDueMinutes),
            acceptDueAt: minutes(story.sentAt, story.acceptDueMinutes),
            reason,
            suggestedAgency: '',
            previousReferralId: story.previousReferralId ?? '',
            reference: story.reference ?? '',
            needs: [...(story.needs ?? ['counselling'])],
          },
        },
      }),
    };
  });
}

export function agencyEvent(
  topology: Topology,
  agencyId: string,
  region: string,
  hours: { alwaysOpen: boolean; periods: { day: string; opens: string; closes: string }[] } = {
    alwaysOpen: false,
    periods: [],
  },
  version = 1,
): { subject: string; envelope: Envelope } {
  return {
    subject: topology.directory('agency_upserted'),
    envelope: createEnvelope({
      type: 'directory.v1.agency_upserted',
      actor: { agency: 'passage-oversight', user: 'admin', role: 'admin' },
      payload: {
        $case: 'agencyChanged',
        value: {
          agencyId,
          kind: 'coalition',
          version,
          acceptingReferrals: true,
          source: 'test',
          nameEn: '',
          nameFr: '',
          region,
          alwaysOpen: hours.alwaysOpen,
          hours: hours.periods,
        },
      },
    }),
  };
}
