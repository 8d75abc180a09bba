import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { agencyEvent, startAuditLab, type AuditLab } from '@passage/audit/testing';
import { createTestDatabase, waitUntil, type TestDatabase } from '@passage/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/main.ts';

// The unsigned tail: entries appended after the last signed checkpoint. The service signs at
// most every hour here, so what arrives after the first checkpoint stays unsigned until it stops.
let lab: AuditLab;
let copy: TestDatabase;
let verifierKey: string;

beforeAll(async () => {
  lab = await startAuditLab('clitail', {
    config: { AUDIT_ORIGIN: 'passage.test/clitail', AUDIT_CHECKPOINT_EVERY: '1000', AUDIT_CHECKPOINT_SECONDS: '3600' },
  });
  copy = await createTestDatabase('clitailcopy');
  verifierKey = lab.service!.verifierKey;
});

afterAll(async () => {
  await lab?.stop();
  await copy?.drop();
});

async function publish(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const { subject, envelope } = agencyEvent(lab.topology, `tail-agency-${randomBytes(3).toString('hex')}`, 'london');
    await lab.publish(envelope, subject);
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
      const now = await sizes(lab.sql);
      return now.entries === 6 && now.signed > 0;
    }, 30_000);
    await publish(5);
    await waitUntil(async () => (await sizes(lab.sql)).entries === 11, 30_000);
    const { signed } = await sizes(lab.sql);
    const tail = 11 - signed;
    expect(tail).toBeGreaterThanOrEqual(5);

    const plain = await passage(lab.db.url, 'audit', 'verify');
    expect(plain.code).toBe(0);
    expect(plain.out).toContain(`under signature: ${signed} entries (`);
    expect(plain.out).toMatch(new RegExp(`unsigned tail: +${tail} entries \\(\\d+ bytes\\)`));
    const json = JSON.parse((await passage(lab.db.url, 'audit', 'verify', '--json')).out) as {
      signed: { entries: number; bytes: number };
      unsignedTail: { entries: number; bytes: number };
    };
    expect(json.signed.entries).toBe(signed);
    expect(json.unsignedTail.entries).toBe(tail);
    expect(json.unsignedTail.bytes).toBeGreaterThan(0);
    const strict = await passage(lab.db.url, 'audit', 'verify', '--require-signed');
    expect(strict.code).toBe(1);
    expect(strict.out).toContain(`FAILED at seq ${signed}`);
    expect(strict.out).toContain(`${tail} entries`);
    expect(strict.out).toContain('under no signed checkpoint');

    // A copy of the database, tampered with: the signatures alone cannot see a change in the tail.
    const dump = execFileSync(
      'pg_dump',
      ['--no-owner', '--no-privileges', '--schema', 'audit', '--dbname', lab.db.url],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
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
    await lab.service!.shutdown.run();
    expect(await sizes(lab.sql)).toEqual({ entries: 11, signed: 11 });
    const sealed = await passage(lab.db.url, 'audit', 'verify', '--require-signed');
    expect(sealed.code).toBe(0);
    expect(sealed.out).toMatch(/unsigned tail: +0 entries \(0 bytes\)/);
    expect(sealed.out).toContain('under signature: 11 entries (');
  });
});
