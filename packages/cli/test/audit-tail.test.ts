import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TokenIssuer } from '@passage/auth';
import { auditConfigSchema } from '@passage/audit/config';
import { startAudit, type RunningAudit } from '@passage/audit/service';
import { Topology, createEnvelope, encodeEnvelope, ensureStreams } from '@passage/events';
import { createLogger, loadConfig } from '@passage/platform';
import { createTestDatabase, createTestNats, waitUntil, type TestDatabase, type TestNats } from '@passage/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/main.ts';

// The unsigned tail: entries appended after the last signed checkpoint. The service signs at
// most every hour here, so what arrives after the first checkpoint stays unsigned until it stops.
let db: TestDatabase;
let copy: TestDatabase;
let nats: TestNats;
let nc: NatsConnection;
let service: RunningAudit;
let sql: pg.Client;
let topology: Topology;
let verifierKey: string;

beforeAll(async () => {
  db = await createTestDatabase('clitail');
  copy = await createTestDatabase('clitailcopy');
  nats = await createTestNats('clitail');
  const config = loadConfig(auditConfigSchema, {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    NATS_NAMESPACE: nats.namespace,
    GRPC_PORT: '0',
    AUTH_PUBLIC_KEYS: new TokenIssuer('test', randomBytes(32)).publicKeySetting,
    AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
    AUDIT_ORIGIN: 'passage.test/clitail',
    AUDIT_CHECKPOINT_EVERY: '1000',
    AUDIT_CHECKPOINT_SECONDS: '3600',
  });
  service = await startAudit(config, createLogger('clitail-test', 'silent'));
  verifierKey = service.verifierKey;
  nc = await connect({ servers: nats.url });
  topology = new Topology(nats.namespace);
  await ensureStreams(nc, topology.allStreams());
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await nc?.close();
  await service?.shutdown.run();
  await nats?.cleanup();
  await db?.drop();
  await copy?.drop();
});

async function publish(count: number): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < count; i += 1) {
    const envelope = createEnvelope({
      type: 'directory.v1.agency_upserted',
      actor: { agency: 'passage-oversight', user: 'admin', role: 'admin' },
      payload: {
        $case: 'agencyChanged',
        value: {
          agencyId: `tail-agency-${randomBytes(3).toString('hex')}`,
          kind: 'coalition',
          version: 1,
          acceptingReferrals: true,
          source: 'test',
          nameEn: '',
          nameFr: '',
          region: 'london',
        },
      },
    });
    await js.publish(topology.directory('agency_upserted'), encodeEnvelope(envelope), { msgID: envelope.id });
  }
}

async function sizes(client: pg.Client): Promise<{ entries: number; signed: number }> {
  const { rows } = await client.query<{ entries: number; signed: string | null }>(
    `select (select count(*)::int from audit.entries) as entries,
            (select max(tree_size) from audit.checkpoints) as signed`,
  );
  return { entries: rows[0]!.entries, signed: Number(rows[0]!.signed ?? 0) };
}

async function passage(url: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await run(args, { DATABASE_URL: url, AUDIT_VERIFIER_KEY: verifierKey }, (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

/** As the superuser, with the append-only triggers off: what someone holding the database can do. */
async function tamper(client: pg.Client, statement: string, values: unknown[] = []): Promise<void> {
  await client.query('begin');
  await client.query('set local session_replication_role = replica');
  await client.query(statement, values);
  await client.query('commit');
}

describe('the unsigned tail of the audit log', () => {
  it('is reported apart, fails --require-signed when changed or cut off, and is signed by a clean stop', async () => {
    await publish(6);
    // The first checkpoint is signed at once; after it, nothing for an hour.
    await waitUntil(async () => {
      const now = await sizes(sql);
      return now.entries === 6 && now.signed > 0;
    }, 30_000);
    await publish(5);
    await waitUntil(async () => (await sizes(sql)).entries === 11, 30_000);
    const { signed } = await sizes(sql);
    const tail = 11 - signed;
    expect(tail).toBeGreaterThanOrEqual(5);

    const plain = await passage(db.url, 'audit', 'verify');
    expect(plain.code).toBe(0);
    expect(plain.out).toContain(`under signature: ${signed} entries (`);
    expect(plain.out).toMatch(new RegExp(`unsigned tail: +${tail} entries \\(\\d+ bytes\\)`));
    const json = JSON.parse((await passage(db.url, 'audit', 'verify', '--json')).out) as {
      signed: { entries: number; bytes: number };
      unsignedTail: { entries: number; bytes: number };
    };
    expect(json.signed.entries).toBe(signed);
    expect(json.unsignedTail.entries).toBe(tail);
    expect(json.unsignedTail.bytes).toBeGreaterThan(0);
    const strict = await passage(db.url, 'audit', 'verify', '--require-signed');
    expect(strict.code).toBe(1);
    expect(strict.out).toContain(`FAILED at seq ${signed}`);
    expect(strict.out).toContain(`${tail} entries`);
    expect(strict.out).toContain('under no signed checkpoint');

    // A copy of the database, tampered with: the signatures alone cannot see a change in the tail.
    const dump = execFileSync('pg_dump', ['--no-owner', '--no-privileges', '--schema', 'audit', '--dbname', db.url], {
      maxBuffer: 64 * 1024 * 1024,
    });
    execFileSync('psql', ['--quiet', '--set', 'ON_ERROR_STOP=1', '--dbname', copy.url], { input: dump });
    const copySql = new pg.Client({ connectionString: copy.url });
    await copySql.connect();
    try {
      await tamper(copySql, 'delete from audit.entries where seq = 10');
      const cut = await passage(copy.url, 'audit', 'verify');
      expect(cut.code).toBe(0); // what the database alone can no longer show
      const cutStrict = await passage(copy.url, 'audit', 'verify', '--require-signed');
      expect(cutStrict.code).toBe(1);
      expect(cutStrict.out).toContain(`${tail - 1} entries`);

      const { rows } = await copySql.query<{ entry: Buffer }>('select entry from audit.entries where seq = 9');
      const forged = Buffer.from(rows[0]!.entry.toString().replace('"tail-agency-', '"forged-agency-'));
      expect(forged.equals(rows[0]!.entry)).toBe(false);
      const forgedLeaf = createHash('sha256')
        .update(Buffer.from([0]))
        .update(forged)
        .digest();
      await tamper(copySql, 'update audit.entries set entry = $1, leaf_hash = $2 where seq = 9', [forged, forgedLeaf]);
      expect((await passage(copy.url, 'audit', 'verify')).code).toBe(0);
      const forgedStrict = await passage(copy.url, 'audit', 'verify', '--require-signed', '--json');
      expect(forgedStrict.code).toBe(1);
      expect(JSON.parse(forgedStrict.out)).toMatchObject({ ok: false, firstBadSeq: signed });
    } finally {
      await copySql.end();
    }

    // The original, untouched: a clean stop signs the tail.
    await service.shutdown.run();
    expect(await sizes(sql)).toEqual({ entries: 11, signed: 11 });
    const sealed = await passage(db.url, 'audit', 'verify', '--require-signed');
    expect(sealed.code).toBe(0);
    expect(sealed.out).toMatch(/unsigned tail: +0 entries \(0 bytes\)/);
    expect(sealed.out).toContain('under signature: 11 entries (');
  });
});
