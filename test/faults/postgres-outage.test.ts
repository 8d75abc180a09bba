import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { demoUsers, developmentIssuer } from '@passage/auth';
import { audit, consent, directory, escalation, referrals } from '@passage/contracts';
import { startPrivatePostgres, waitUntil, type PrivateServer } from '@passage/testing';
import { startNetworkAsPnpmStart, stopStartedNetworks, type StartedNetwork } from '../e2e/started-network.ts';

// The whole network as `pnpm start` runs it, on a Postgres of this test's own: its connections
// terminated, then the server stopped immediately and started again. No service exits; calls
// during the outage are refused as UNAVAILABLE (never INTERNAL), and succeed once it is back.
let postgres: PrivateServer;
let started: StartedNetwork;
let ports: StartedNetwork['ports'];

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  // start.ts creates the database; the private server goes with the test (afterAll).
  const database = {
    url: postgres.url.replace(/\/postgres$/, '/passage'),
    name: 'passage',
    drop: () => Promise.resolve(),
  };
  started = await startNetworkAsPnpmStart('pg-outage', {}, database);
  ports = started.ports;
}, 360_000);

afterAll(async () => {
  await stopStartedNetworks();
  await postgres?.dispose();
});

const token = (user: keyof typeof demoUsers): grpc.Metadata => {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${developmentIssuer().issue(demoUsers[user]!)}`);
  return metadata;
};

type Probe = () => Promise<number | 'ok'>;

function unary<Req>(
  call: (
    request: Req,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null) => void,
  ) => unknown,
  request: Req,
  metadata: grpc.Metadata,
): Promise<number | 'ok'> {
  return new Promise((resolve) => {
    // An answer the service could only give from its database (a refusal for an unknown subject included).
    const answered = [grpc.status.NOT_FOUND, grpc.status.PERMISSION_DENIED];
    call(request, metadata, { deadline: Date.now() + 15_000 }, (error) =>
      resolve(!error || answered.includes(error.code) ? 'ok' : error.code),
    );
  });
}

/** One call per service that reads its database. */
function probes(): Record<string, Probe> {
  const address = (port: number) => `127.0.0.1:${port}`;
  const { credentials } = started;
  const dir = new directory.DirectoryServiceClient(address(ports.directory), credentials);
  const con = new consent.ConsentServiceClient(address(ports.consent), credentials);
  const ref = new referrals.ReferralServiceClient(address(ports.referrals), credentials);
  const aud = new audit.AuditServiceClient(address(ports.audit), credentials);
  const esc = new escalation.EscalationServiceClient(address(ports.escalation), credentials);
  return {
    directory: () =>
      unary(dir.listAgencies.bind(dir), { kind: '', region: '', service: '', language: '' }, token('admin')),
    consent: () => unary(con.history.bind(con), { subjectRef: randomUUID() }, token('crisis-counsellor')),
    referrals: () =>
      unary(ref.listInbox.bind(ref), referrals.ListInboxRequest.fromPartial({ pageSize: 10 }), token('london-intake')),
    audit: () => unary(aud.latestCheckpoint.bind(aud), {}, token('auditor')),
    escalation: () => unary(esc.listEscalations.bind(esc), { limit: 10 }, token('crisis-counsellor')),
    gateway: async () => {
      const response = await fetch(`http://127.0.0.1:${ports.gateway}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'auditor', password: 'passage-demo' }),
      });
      await response.arrayBuffer();
      // The gateway speaks HTTP: 503 is its UNAVAILABLE.
      return response.status === 201 ? 'ok' : response.status === 503 ? grpc.status.UNAVAILABLE : response.status;
    },
  };
}

/** Every probe succeeds, within a deadline: a lost connection costs a retried call, never a process. */
async function allServe(all: Record<string, Probe>): Promise<void> {
  for (const [name, probe] of Object.entries(all)) {
    let last: number | 'ok' = -1;
    await waitUntil(async () => (last = await probe()) === 'ok', 60_000).catch(() => {
      throw new Error(`${name} did not serve again (last answer ${String(last)})`);
    });
  }
}

function exits(): string[] {
  const lines = started.process.output().split('\n');
  const exited = lines.filter((line) => /exited unexpectedly/.test(line));
  // What the services said before they went: the cause, for whoever reads a failure.
  if (exited.length > 0)
    console.log(
      lines
        .filter((line) => /"level":(50|60)/.test(line))
        .slice(-10)
        .join('\n'),
    );
  return exited;
}

it('survives its database connections being terminated, then Postgres stopping and starting', async () => {
  const all = probes();
  await allServe(all);

  // Every backend of the services terminated at once, as pg_terminate_backend does to one.
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  const { rowCount } = await admin.query(
    `select pg_terminate_backend(pid) from pg_stat_activity where datname = 'passage' and pid <> pg_backend_pid()`,
  );
  await admin.end();
  expect(rowCount).toBeGreaterThan(0);
  await allServe(all);
  expect(exits()).toEqual([]);

  // Stopped immediately (a crash): every answer meanwhile is UNAVAILABLE, none INTERNAL.
  await postgres.kill();
  const during: Record<string, number | 'ok'> = {};
  for (const [name, probe] of Object.entries(all)) during[name] = await probe();
  expect(Object.keys(during)).not.toHaveLength(0);
  for (const [name, answer] of Object.entries(during)) {
    expect({ name, answer }).toEqual({ name, answer: grpc.status.UNAVAILABLE });
  }

  await postgres.restart();
  await allServe(all);
  expect(exits()).toEqual([]);
}, 300_000);
