import { testTls } from '@passage/platform/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { PermissionViolationError, type NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditConfigSchema } from '@passage/audit/config';
import { startAudit } from '@passage/audit/service';
import { consentConfigSchema } from '@passage/consent/config';
import { startConsent } from '@passage/consent/service';
import { directoryConfigSchema } from '@passage/directory/config';
import { ontarioAgencies } from '@passage/directory/seed';
import { startDirectory } from '@passage/directory/service';
import { escalationConfigSchema } from '@passage/escalation/config';
import { startEscalation } from '@passage/escalation/service';
import {
  NatsRefusedError,
  Topology,
  confirmNatsAccess,
  connectNats,
  ensureStreams,
  ephemeralName,
  renderNatsAuthorization,
  type NatsSettings,
  type ServiceName,
} from '@passage/events';
import { gatewayConfigSchema } from '@passage/gateway/config';
import { startGateway } from '@passage/gateway/service';
import { ConfigError, createLogger, loadConfig, writeDevCertificates, type Shutdown } from '@passage/platform';
import { referralsConfigSchema } from '@passage/referrals/config';
import { startReferrals } from '@passage/referrals/service';
import {
  createTestDatabase,
  failureOf,
  sparePort,
  startNatsWithConfig,
  startSecureNats,
  waitUntil,
  type NatsProcess,
  type SecureNats,
  type TestDatabase,
} from '@passage/testing';
import pg from 'pg';
import { startServicesNats, type NatsUser, type ServicesNats } from './secure-nats.ts';

// Every service as its own NATS user, over TLS, on a nats-server whose authorization is the
// generated one (deploy/nats/authorization.conf for this namespace): each does all its work,
// and is refused what the others do.
const namespace = `creds${randomBytes(3).toString('hex')}`;
const topology = new Topology(namespace);
const repositoryRoot = new URL('../../', import.meta.url).pathname;
const log = createLogger('nats-credentials-test', process.env['LOG_LEVEL'] ?? 'silent');

let nats: ServicesNats;
let server: SecureNats;
let certs: ServicesNats['certs'];
let passwords: ServicesNats['passwords'];
let db: TestDatabase;
const running: Shutdown[] = [];
let gatewayUrl: string;
let sql: pg.Client;

const natsEnv = (user: NatsUser, password?: string) => nats.env(user, password);
const serverEnv = () => nats.serverEnv;

function settings(user: NatsUser, overrides: Partial<NatsSettings> = {}): NatsSettings {
  return { ...loadConfig(directoryConfigSchema, natsEnv(user)), ...overrides };
}

beforeAll(async () => {
  nats = await startServicesNats(namespace);
  ({ server, certs, passwords } = nats);
  db = await createTestDatabase('natscreds');
  const common = (user: ServiceName) => ({
    ...natsEnv(user),
    DATABASE_URL: db.url,
    GRPC_PORT: '0',
    PASSAGE_ENV: 'development',
  });
  const directory = await startDirectory(
    loadConfig(directoryConfigSchema, { ...common('directory'), DIRECTORY_SEED: 'ontario' }),
    log,
  );
  running.push(directory.shutdown);
  const consent = await startConsent(loadConfig(consentConfigSchema, common('consent')), log);
  running.push(consent.shutdown);
  const addresses = { DIRECTORY_ADDRESS: directory.address, CONSENT_ADDRESS: consent.address };
  const referrals = await startReferrals(
    loadConfig(referralsConfigSchema, { ...common('referrals'), ...addresses }),
    log,
  );
  running.push(referrals.shutdown);
  const audit = await startAudit(
    loadConfig(auditConfigSchema, { ...common('audit'), AUDIT_CHECKPOINT_SECONDS: '0.5' }),
    log,
  );
  running.push(audit.shutdown);
  const escalation = await startEscalation(
    loadConfig(escalationConfigSchema, {
      ...common('escalation'),
      ...addresses,
      REFERRALS_ADDRESS: referrals.address,
    }),
    log,
  );
  running.push(escalation.shutdown);
  const gateway = await startGateway(
    loadConfig(gatewayConfigSchema, {
      ...common('gateway'),
      ...addresses,
      REFERRALS_ADDRESS: referrals.address,
      AUDIT_ADDRESS: audit.address,
      ESCALATION_ADDRESS: escalation.address,
      HTTP_PORT: '0',
      DEMO_USERS: 'on',
      DEMO_PASSWORD: 'synthetic-demo-password',
      SIGN_IN_PER_MINUTE: '1000',
    }),
    log,
  );
  running.push(gateway.shutdown);
  gatewayUrl = gateway.url;
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
}, 120_000);

afterAll(async () => {
  for (const shutdown of running.reverse()) await shutdown.run().catch(() => undefined);
  await sql?.end();
  await db?.drop();
  await nats?.dispose();
});

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

async function signIn(username: string): Promise<Session> {
  const response = await fetch(`${gatewayUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'synthetic-demo-password' }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { csrfToken: string };
  return { cookie: (response.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body.csrfToken };
}

async function post<T>(session: Session, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${gatewayUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie: session.cookie,
      'x-csrf-token': session.csrf,
      'idempotency-key': randomUUID(),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 201 && response.status !== 200) throw new Error(`${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Opens a server-sent event feed; resolves once the gateway has its consumers in place. */
async function openFeed(session: Session, path: string) {
  const controller = new AbortController();
  const response = await fetch(`${gatewayUrl}${path}`, {
    headers: { cookie: session.cookie },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: Record<string, unknown>[] = [];
  const reader = response.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        if (data) events.push(JSON.parse(data) as Record<string, unknown>);
      }
    }
  })().catch(() => undefined);
  return { events, close: () => controller.abort() };
}

async function count(query: string, params: unknown[] = []): Promise<number> {
  return (await sql.query<{ n: number }>(query, params)).rows[0]!.n;
}

describe('every service as its own NATS user over TLS', () => {
  it('does everything its service does: streams, outbox relay, durable consumers, the audit reader and the live feeds', async () => {
    // The directory's relay published the seeded agencies; consent's durable consumer applied them.
    await waitUntil(
      async () => (await count('select count(*)::int as n from consent.agencies')) === ontarioAgencies.length,
      30_000,
    );
    const officer = await signIn('peel-officer');
    const london = await signIn('london-intake');
    const auditor = await signIn('auditor');
    const feed = await openFeed(london, '/api/events');
    const oversight = await openFeed(auditor, '/api/oversight/events');
    try {
      const consent = (scope: Record<string, unknown>) => ({
        method: 'CAPTURE_METHOD_VERBAL',
        language: 'en',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        scopes: [scope],
      });
      const granted = await post<{ subjectRef: string }>(
        officer,
        '/api/consents',
        consent({ recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['needs'] }),
      );
      // A scope letting police read: consent.v1.police_access, for the oversight feed.
      await post(
        officer,
        '/api/consents',
        consent({ recipientAgencyIds: ['peel-regional-police'], purposes: ['investigation'], categories: ['needs'] }),
      );
      const sent = await post<{ referral: { id: string } }>(officer, '/api/referrals', {
        subjectRef: granted.subjectRef,
        fromAgency: 'peel-regional-police',
        toAgency: 'london-coalition',
        priority: 'PRIORITY_STANDARD',
        needs: ['counselling'],
        language: 'en',
        packet: [{ category: 'needs', content: 'Synthetic need' }],
      });
      const referralId = sent.referral.id;
      // A read of the referral: referrals publishes audit.v1.access.
      const read = await fetch(`${gatewayUrl}/api/referrals/${referralId}`, { headers: { cookie: london.cookie } });
      expect(read.status).toBe(200);

      // The gateway's ephemeral consumers: the agency's referral feed and the oversight feed.
      await waitUntil(() => Promise.resolve(feed.events.some((event) => event['referralId'] === referralId)), 15_000);
      await waitUntil(() => Promise.resolve(oversight.events.length > 0), 15_000);
      expect(oversight.events[0]).toMatchObject({ type: 'consent.v1.police_access' });
      // Referrals' durable consumer of consent changes applied the grants.
      await waitUntil(
        async () =>
          (await count(
            `select count(*)::int as n from referrals.inbox where consumer = 'referrals-consent-changes'`,
          )) >= 2,
        15_000,
      );
      // Escalation's durable consumer started the referral's timers.
      await waitUntil(
        async () =>
          (await count('select count(*)::int as n from escalation.timers where referral_id = $1', [referralId])) > 0,
        15_000,
      );
      // The audit service read every stream.
      await waitUntil(
        async () => (await count('select count(distinct stream)::int as n from audit.entries')) === 4,
        15_000,
      );
      const streams = (await sql.query<{ stream: string }>('select distinct stream from audit.entries order by 1'))
        .rows;
      expect(streams.map((row) => row.stream)).toEqual(
        (['audit', 'consent', 'directory', 'referral'] as const).map((area) => topology.stream(area).name).sort(),
      );
    } finally {
      feed.close();
      oversight.close();
    }
    // Nothing any service did was refused.
    expect(server.log()).not.toMatch(/Violation/i);
  });
});

/** Connects as `user`, with its password, certificate and inbox, as that service would. */
function as(user: NatsUser): Promise<NatsConnection> {
  return connectNats(settings(user), user);
}

/** The request failed because NATS refused the user the subject (the error, or its cause). */
async function refused(attempt: Promise<unknown>, subject: string | RegExp): Promise<void> {
  const error = await failureOf<Error & { cause?: unknown }>(attempt);
  const violation = [error, error.cause].find((e) => e instanceof PermissionViolationError);
  expect(violation, String(error)).toBeInstanceOf(PermissionViolationError);
  expect((violation as PermissionViolationError).subject).toMatch(subject);
}

const data = new Uint8Array([1]);
const stream = (area: Parameters<Topology['stream']>[0]) => topology.stream(area).name;

describe('each user is refused what it does not do', () => {
  const open: NatsConnection[] = [];
  const connection = async (user: NatsUser) => {
    const nc = await as(user);
    open.push(nc);
    return nc;
  };
  afterAll(async () => {
    for (const nc of open) await nc.close();
  });

  it('publishes only its own subjects: escalation and audit publish nothing, the gateway only its own audit events', async () => {
    const referral = topology.referral('peel-regional-police', 'london-coalition', 'sent');
    for (const user of ['gateway', 'escalation', 'audit', 'directory', 'consent', 'admin'] as const) {
      const js = jetstream(await connection(user));
      await refused(js.publish(referral, data), referral);
    }
    for (const user of ['gateway', 'escalation', 'audit', 'directory', 'referrals', 'admin'] as const) {
      await refused(
        jetstream(await connection(user)).publish(topology.consent('granted'), data),
        /consent\.v1\.granted$/,
      );
    }
    // The gateway records the FHIR export it serves itself as an access (ADR 44); nothing else of the sort.
    for (const user of ['escalation', 'audit', 'directory', 'admin'] as const) {
      await refused(jetstream(await connection(user)).publish(topology.audit('access'), data), /audit\.v1\.access$/);
    }
    await refused(
      jetstream(await connection('gateway')).publish(topology.audit('parked_event_replayed'), data),
      /audit\.v1\.parked_event_replayed$/,
    );
    // Its own: accepted.
    expect(
      (await jetstream(await connection('directory')).publish(topology.directory('agency_upserted'), data)).seq,
    ).toBeGreaterThan(0);
  });

  it("never consumes another service's durable consumer, even on a stream it may read", async () => {
    const referrals = stream('referral');
    // Consent reads DIRECTORY through its own durable, and nothing on REFERRALS.
    const consent = await connection('consent');
    await refused(jetstream(consent).consumers.get(referrals, 'escalation-referrals'), /CONSUMER\.INFO/);
    await refused(
      consent.request(`$JS.API.CONSUMER.MSG.NEXT.${referrals}.escalation-referrals`, '{"batch":1}'),
      /MSG\.NEXT/,
    );
    // The gateway opens consumers of its own on REFERRALS, but may not take escalation's.
    const gateway = await connection('gateway');
    const jsm = await jetstreamManager(gateway);
    await refused(
      gateway.request(`$JS.API.CONSUMER.MSG.NEXT.${referrals}.escalation-referrals`, '{"batch":1}'),
      /escalation-referrals$/,
    );
    await refused(
      jsm.consumers.add(referrals, {
        durable_name: 'escalation-referrals',
        ack_policy: AckPolicy.Explicit,
        filter_subject: topology.everything('referral'),
      }),
      /CONSUMER\.CREATE\..*escalation-referrals/,
    );
    await refused(jsm.consumers.delete(referrals, 'escalation-referrals'), /CONSUMER\.DELETE\..*escalation-referrals$/);
    // On CONSENT it may follow police access only.
    await refused(
      jsm.consumers.add(stream('consent'), {
        name: ephemeralName('gateway'),
        ack_policy: AckPolicy.Explicit,
        filter_subject: topology.consent('granted'),
      }),
      /CONSUMER\.CREATE\./,
    );
    // Escalation's own durable is untouched, and its own consumers work.
    const mine = await jsm.consumers.add(referrals, {
      name: ephemeralName('gateway'),
      ack_policy: AckPolicy.Explicit,
      filter_subject: topology.referralsTo('london-coalition'),
      inactive_threshold: 30_000_000_000,
    });
    await jsm.consumers.delete(referrals, mine.name);
  });

  it('lets the audit user read every stream, and publish nothing', async () => {
    const nc = await connection('audit');
    const jsm = await jetstreamManager(nc);
    for (const area of ['referral', 'consent', 'directory', 'audit'] as const) {
      const info = await jsm.consumers.add(stream(area), {
        name: ephemeralName('audit'),
        ack_policy: AckPolicy.Explicit,
        filter_subject: topology.everything(area),
        inactive_threshold: 30_000_000_000,
      });
      const message = await (await jetstream(nc).consumers.get(stream(area), info.name)).next({ expires: 5_000 });
      expect(message, area).not.toBeNull();
      expect(await message!.ackAck()).toBe(true);
      expect((await jsm.streams.getMessage(stream(area), { seq: message!.seq }))?.seq).toBe(message!.seq);
      await jsm.consumers.delete(stream(area), info.name);
    }
    await refused(jetstream(nc).publish(topology.audit('stream_gap'), data), /audit\.v1\.stream_gap$/);
  });

  it("reads no other service's replies: each subscribes under its own inbox only", async () => {
    const gateway = await connection('gateway');
    gateway.subscribe('_INBOX.referrals.>');
    const error = await failureOf(confirmNatsAccess(gateway));
    expect(error).toBeInstanceOf(NatsRefusedError);
    expect(error.message).toMatch(/^NATS user "gateway" may not subscribe to "_INBOX\.referrals\.>": /);
  });
});

describe('a service NATS refuses does not start, and says why in one line', () => {
  const directoryEnv = (user: ServiceName, extra: Record<string, string | undefined> = {}) => ({
    ...natsEnv(user),
    DATABASE_URL: db.url,
    GRPC_PORT: '0',
    PASSAGE_ENV: 'development',
    ...extra,
  });
  const startRefused = async (env: Record<string, string | undefined>) => {
    const started = Date.now();
    const error = await failureOf(startDirectory(loadConfig(directoryConfigSchema, env), log));
    // Refused at once: not retried as if NATS were down.
    expect(Date.now() - started).toBeLessThan(10_000);
    return error;
  };

  it('a wrong password: "NATS refused user …", not retried', async () => {
    const error = await startRefused(directoryEnv('directory', { NATS_PASSWORD: 'not-the-password' }));
    expect(error).toBeInstanceOf(NatsRefusedError);
    expect(error.message).toMatch(/^NATS refused user "directory": check NATS_USER\/NATS_PASSWORD/);
    expect(error.message).not.toMatch(/\n/);
  });

  it('no TLS settings against servers that require TLS, and a CA that did not sign them', async () => {
    const plain = await failureOf(
      connectNats(
        {
          NATS_URL: server.url,
          NATS_USER: 'directory',
          NATS_PASSWORD: passwords.directory,
          PASSAGE_ENV: 'development',
        },
        'directory',
      ),
    );
    expect(plain).toBeInstanceOf(NatsRefusedError);
    expect(plain.message).toMatch(/^NATS requires TLS: set NATS_TLS_CA to the CA/);
    const otherDir = mkdtempSync(join(tmpdir(), 'passage-other-ca-'));
    try {
      const other = writeDevCertificates({ dir: otherDir, names: [] });
      const error = await startRefused(
        directoryEnv('directory', {
          NATS_TLS_CA_FILE: other.ca,
          NATS_TLS_CERT_FILE: undefined,
          NATS_TLS_KEY_FILE: undefined,
        }),
      );
      expect(error).toBeInstanceOf(NatsRefusedError);
      expect(error.message).toMatch(/^NATS's certificate is not trusted \(.*\): NATS_TLS_CA must be the CA/);
      expect(error.message).not.toMatch(/\n/);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('outside development, no CA or no user is a configuration error naming the setting', async () => {
    // Production with gRPC's certificate given: what is missing is NATS's alone.
    const env = {
      ...directoryEnv('directory'),
      ...testTls('directory').env,
      PASSAGE_ENV: 'production',
      AUTH_PUBLIC_KEYS: undefined,
    };
    const noCa = await failureOf(
      startDirectory(
        loadConfig(directoryConfigSchema, {
          ...env,
          NATS_TLS_CA_FILE: undefined,
          NATS_TLS_CERT_FILE: undefined,
          NATS_TLS_KEY_FILE: undefined,
        }),
        log,
      ),
    );
    expect(noCa).toBeInstanceOf(ConfigError);
    expect(noCa.message).toMatch(/NATS_TLS_CA is required outside development/);
    const noUser = await failureOf(
      startDirectory(
        loadConfig(directoryConfigSchema, { ...env, NATS_USER: undefined, NATS_PASSWORD: undefined }),
        log,
      ),
    );
    expect(noUser).toBeInstanceOf(ConfigError);
    expect(noUser.message).toMatch(/NATS_USER and NATS_PASSWORD are required outside development/);
  });

  it("another service's user: refused, naming the user and what it may not do", async () => {
    const error = await startRefused(directoryEnv('gateway'));
    expect(error).toBeInstanceOf(NatsRefusedError);
    expect(error.message).toMatch(
      /^NATS user "gateway" may not subscribe to "_INBOX\.directory\.>": .*NATS_USER=directory/,
    );
  });

  it('a user without a permission its service needs (a stale authorization.conf): the service refuses to start', async () => {
    const pull = `"$JS.API.CONSUMER.MSG.NEXT.${stream('referral')}.escalation-referrals"`;
    const stale = renderNatsAuthorization(topology)
      .split('\n')
      .filter((line) => line.trim() !== pull)
      .join('\n');
    const staleServer = await startSecureNats({
      tls: { ca: certs.ca, cert: certs.cert('nats'), key: certs.key('nats') },
      authorization: stale,
      env: serverEnv(),
    });
    try {
      const started = Date.now();
      const error = await failureOf(
        startEscalation(
          loadConfig(escalationConfigSchema, {
            ...natsEnv('escalation'),
            NATS_URL: staleServer.url,
            DATABASE_URL: db.url,
            GRPC_PORT: '0',
            PASSAGE_ENV: 'development',
          }),
          log,
        ),
      );
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(error).toBeInstanceOf(NatsRefusedError);
      expect(error.message).toBe(
        `NATS user "escalation" may not publish to "$JS.API.CONSUMER.MSG.NEXT.${stream('referral')}.escalation-referrals": ` +
          'give the escalation service its own user (NATS_USER=escalation) with the permissions of deploy/nats/authorization.conf (pnpm gen), and reload the NATS servers',
      );
      expect(staleServer.log()).toMatch(/Publish Violation - User "escalation"/);
    } finally {
      await staleServer.dispose();
    }
  });

  it('servers that ask for a client certificate: one line without it, a connection with it', async () => {
    const verifying = await startSecureNats({
      tls: { ca: certs.ca, cert: certs.cert('nats'), key: certs.key('nats') },
      verifyClients: true,
      authorization: renderNatsAuthorization(topology),
      env: serverEnv(),
    });
    try {
      const withoutCert = await failureOf(
        connectNats(
          settings('referrals', { NATS_URL: verifying.url, NATS_TLS_CERT: undefined, NATS_TLS_KEY: undefined }),
          'referrals',
        ),
      );
      expect(withoutCert).toBeInstanceOf(NatsRefusedError);
      expect(withoutCert.message).toMatch(/^NATS asks for a client certificate: set NATS_TLS_CERT and NATS_TLS_KEY/);
      const nc = await connectNats(settings('referrals', { NATS_URL: verifying.url }), 'referrals');
      await nc.close();
    } finally {
      await verifying.dispose();
    }
  });
});

describe('deploy/nats: the committed configuration', () => {
  it('is what the generator prints, and runs a three-node TLS cluster where a service user keeps three replicas', async () => {
    const deploy = join(repositoryRoot, 'deploy/nats');
    expect(readFileSync(join(deploy, 'authorization.conf'), 'utf8')).toBe(renderNatsAuthorization(new Topology()));
    // The same files, on loopback: ports and paths moved, nothing else changed.
    const nodes = await Promise.all(
      [0, 1, 2].map(async (i) => ({ i, client: await sparePort(), route: await sparePort(), http: await sparePort() })),
    );
    const routes = Object.fromEntries(nodes.map((n) => [`NATS_ROUTE_${n.i}`, `nats://127.0.0.1:${n.route}`]));
    const servers: NatsProcess[] = [];
    const clusterDir = mkdtempSync(join(tmpdir(), 'passage-nats-deploy-'));
    try {
      for (const node of nodes) {
        const nodeDir = join(clusterDir, `nats-${node.i}`);
        mkdirSync(nodeDir);
        writeFileSync(join(nodeDir, 'authorization.conf'), readFileSync(join(deploy, 'authorization.conf')));
        const config = readFileSync(join(deploy, 'nats.conf'), 'utf8')
          .replaceAll('/etc/nats/tls/tls.crt', certs.cert('nats'))
          .replaceAll('/etc/nats/tls/tls.key', certs.key('nats'))
          .replaceAll('/etc/nats/tls/ca.crt', certs.ca)
          .replace('"/data/jetstream"', `"${join(nodeDir, 'js')}"`)
          .replace('"/var/run/nats/nats.pid"', `"${join(nodeDir, 'nats.pid')}"`)
          .replace('"0.0.0.0:4222"', `"127.0.0.1:${node.client}"`)
          .replace('"0.0.0.0:6222"', `"127.0.0.1:${node.route}"`)
          .replace('"0.0.0.0:8222"', `"127.0.0.1:${node.http}"`);
        writeFileSync(join(nodeDir, 'nats.conf'), config);
        servers.push(
          await startNatsWithConfig({
            configFile: join(nodeDir, 'nats.conf'),
            port: node.client,
            env: { ...serverEnv(), ...routes, NATS_SERVER_NAME: `nats-${node.i}` },
          }),
        );
      }
      const url = nodes.map((n) => `nats://127.0.0.1:${n.client}`).join(',');
      const nc = await connectNats(settings('referrals', { NATS_URL: url }), 'referrals');
      try {
        const deployed = new Topology();
        // The cluster elects its JetStream leader over the TLS routes; then the stream gets three replicas.
        await waitUntil(
          () =>
            ensureStreams(nc, [deployed.stream('referral')], { replicas: 3 }).then(
              () => true,
              () => false,
            ),
          60_000,
        );
        const info = await (await jetstreamManager(nc)).streams.info(deployed.stream('referral').name);
        expect(info.config.num_replicas).toBe(3);
        expect(info.cluster?.replicas?.length).toBe(2);
        const ack = await jetstream(nc).publish(
          deployed.referral('peel-regional-police', 'london-coalition', 'sent'),
          data,
        );
        expect(ack.seq).toBe(1);
      } finally {
        await nc.close();
      }
      // Without a client certificate the cluster refuses, in one line.
      const certless = await failureOf(
        connectNats(
          settings('referrals', { NATS_URL: url, NATS_TLS_CERT: undefined, NATS_TLS_KEY: undefined }),
          'referrals',
        ),
      );
      expect(certless.message).toMatch(/^NATS asks for a client certificate/);
      for (const server of servers) expect(server.log()).not.toMatch(/Violation|TLS handshake error.*route/i);
    } finally {
      for (const server of servers) await server.stop();
      rmSync(clusterDir, { recursive: true, force: true });
    }
  }, 120_000);
});
