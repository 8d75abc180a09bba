import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { verifierFromEnv } from '@passage/auth';
import { descriptorSet } from '@passage/contracts/descriptor';
import {
  ParkedEvents,
  Topology,
  createEnvelope,
  encodeEnvelope,
  eventTablesSql,
  parkedEventsService,
  type EventHandler,
} from '@passage/events';
import {
  baseConfigSchema,
  createLogger,
  grpcTransport,
  loadConfig,
  openDatabase,
  startGrpcServer,
  type MikroORM,
  type RunningGrpcServer,
} from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import { createTestDatabase, type TestDatabase } from '@passage/testing';
import { run } from '../src/main.ts';

// `passage events parked` and `events replay` against two ParkedEventsService servers over mutual
// TLS, each over a schema of its own in the real Postgres: one holds nothing (as consent and
// escalation), the other (as referrals) a parked event whose handler fails, then succeeds.
let db: TestDatabase;
let sql: pg.Client;
const orms: MikroORM[] = [];
const servers: RunningGrpcServer[] = [];
let env: NodeJS.ProcessEnv;
let failing = true;
const log = createLogger('cli-events-test', 'silent');

const handle: EventHandler = async (event, em) => {
  if (failing) throw new Error('the agency is not listed yet');
  await em.execute('insert into ops_full.effects (event_id) values (?)', [event.envelope.id]);
};

async function serve(schema: string, service: string): Promise<string> {
  await sql.query(`create schema ${schema}`);
  for (const statement of eventTablesSql(schema)) await sql.query(statement);
  const orm = await openDatabase({ url: db.url, schema, entities: [], migrations: [] });
  orms.push(orm);
  const parked = new ParkedEvents({
    service,
    orm,
    schema,
    topology: new Topology('cli'),
    handlers: { 'lab-consumer': handle },
  });
  const config = loadConfig(baseConfigSchema, { ...testTls(service).env, PASSAGE_ENV: 'development' });
  const server = await startGrpcServer(
    {
      services: [parkedEventsService(parked, verifierFromEnv({ PASSAGE_ENV: 'development' }), log)],
      descriptorSet: descriptorSet(),
      log,
      transport: grpcTransport(config, log),
    },
    { GRPC_HOST: '127.0.0.1', GRPC_PORT: 0 },
  );
  servers.push(server);
  return server.address;
}

beforeAll(async () => {
  db = await createTestDatabase('cli-events');
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const empty = await serve('ops_empty', 'consent');
  const full = await serve('ops_full', 'referrals');
  await sql.query('create table ops_full.effects (event_id uuid not null)');
  env = {
    PASSAGE_ENV: 'development',
    ...testTls('cli').env,
    CONSENT_ADDRESS: empty,
    REFERRALS_ADDRESS: full,
    ESCALATION_ADDRESS: empty,
  };
});

afterAll(async () => {
  for (const server of servers) await server.shutdown(1000);
  for (const orm of orms) await orm.close(true);
  await sql?.end();
  await db?.drop();
});

async function passage(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await run(args, env, (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

async function park(): Promise<string> {
  const envelope = createEnvelope({
    type: 'directory.v1.agency_upserted',
    payload: {
      $case: 'agencyChanged',
      value: {
        agencyId: 'synthetic-agency',
        kind: 'coalition',
        version: 1,
        acceptingReferrals: true,
        source: 'test',
        nameEn: '',
        nameFr: '',
        region: 'ontario',
        alwaysOpen: false,
        hours: [],
      },
    },
  });
  await sql.query(
    `insert into ops_full.parked_events (consumer, event_id, subject, payload, attempts, error)
     values ('lab-consumer', $1, 'cli.directory.v1.agency_upserted', $2, 5, 'Error: the agency is not listed yet')`,
    [envelope.id, Buffer.from(encodeEnvelope(envelope))],
  );
  return envelope.id;
}

describe('passage events', () => {
  it('lists parked events of every service, replays one where it is parked, and says how it went', async () => {
    const eventId = await park();
    const listed = await passage('events', 'parked', '--json');
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.out) as Array<Record<string, unknown>>;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).toEqual([
      {
        service: 'referrals',
        consumer: 'lab-consumer',
        event_id: eventId,
        type: 'directory.v1.agency_upserted',
        attempts: 5,
        parked_at: expect.any(String) as string,
        error: 'Error: the agency is not listed yet',
      },
    ]);

    // Still failing: exit 1, still parked, one attempt more.
    const failed = await passage('events', 'replay', eventId);
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(
      new RegExp(`^referrals: ${eventId} failed again and stays parked: Error: the agency is not listed yet`),
    );
    const again = JSON.parse((await passage('events', 'parked', '--service', 'referrals', '--json')).out) as Array<{
      attempts: number;
    }>;
    expect(again.map((row) => row.attempts)).toEqual([6]);

    failing = false;
    const applied = await passage('events', 'replay', eventId);
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(
      new RegExp(`^referrals: ${eventId} applied; no longer parked \\(audit event [0-9a-f-]{36}\\)$`),
    );
    const { rows: effects } = await sql.query('select event_id from ops_full.effects');
    expect(effects).toEqual([{ event_id: eventId }]);
    expect((await passage('events', 'parked')).out).toBe('no parked events');
    // Each replay wrote its audit event to the owning service's outbox.
    const { rows: audits } = await sql.query<{ subject: string }>('select subject from ops_full.outbox order by seq');
    expect(audits.map((row) => row.subject)).toEqual([
      'cli.audit.v1.parked_event_replayed',
      'cli.audit.v1.parked_event_replayed',
    ]);

    // An event nobody holds, and a service that is not one.
    await expect(passage('events', 'replay', eventId)).rejects.toThrow(/no service holds a parked event/);
    await expect(passage('events', 'parked', '--service', 'gateway')).rejects.toThrow(/--service: one of/);
  });
});
