import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoteVerifier, scanEntries, storedCheckpointNotes, storedEntries, verifyLog } from '@passage/audit-log';
import { audit } from '@passage/contracts';
import { callUnary } from '@passage/platform';
import { failureOf, waitUntil } from '@passage/testing';
import pg from 'pg';
import { PgLogStore } from '../src/adapters/db/log-store.ts';
import { agencyEvent, referralEvents, startAuditLab, waitForEntries, type AuditLab } from './support.ts';

let lab: AuditLab;
let client: audit.AuditServiceClient;
let eventCount = 0;

beforeAll(async () => {
  lab = await startAuditLab('auditlog');
  client = lab.client!;
  const events = [
    agencyEvent(lab.topology, 'london-coalition', 'london'),
    ...Array.from({ length: 40 }, (_, i) =>
      referralEvents(
        {
          from: 'peel-regional-police',
          to: 'london-coalition',
          sentAt: new Date(Date.UTC(2026, 10, 1, 12, i)),
          acknowledgeDueMinutes: 60,
          acceptDueMinutes: 240,
          acknowledged: 10,
          accepted: 30,
        },
        lab.topology,
      ),
    ).flat(),
  ];
  for (const { subject, envelope } of events) await lab.publish(envelope, subject);
  eventCount = events.length;
  await waitForEntries(lab, eventCount);
  // The timer signs the tail within AUDIT_CHECKPOINT_SECONDS.
  await waitUntil(async () => (await checkpointSize()) === eventCount);
});

afterAll(async () => {
  await lab?.stop();
});

async function checkpointSize(): Promise<number> {
  const { rows } = await lab.sql.query<{ n: string | null }>('select max(tree_size) as n from audit.checkpoints');
  return Number(rows[0]?.n ?? 0);
}

const as = (user = 'auditor') => lab.as(user);

async function verifyFromDatabase(savedNote?: string) {
  return verifyLog({
    entries: storedEntries(lab.sql),
    checkpointNotes: await storedCheckpointNotes(lab.sql),
    verifierKey: lab.service!.verifierKey,
    savedNote,
  });
}

/** As the superuser, with triggers off: what an attacker with the database would do. */
async function tamper(sql: string): Promise<void> {
  await lab.sql.query('begin');
  await lab.sql.query('set local session_replication_role = replica');
  await lab.sql.query(sql);
  await lab.sql.query('commit');
}

// RFC 6962 §2.1.1/§2.1.2, written again here from the RFC's recursive definitions, so the
// service's proofs are checked by code that shares nothing with the code that made them.
const sha = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const split = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
function rootFromPath(m: number, n: number, leaf: Buffer, path: Buffer[]): Buffer {
  if (n === 1) {
    expect(path).toHaveLength(0);
    return leaf;
  }
  const k = split(n);
  const sibling = path.pop()!;
  return m < k
    ? sha(Buffer.from([1]), rootFromPath(m, k, leaf, path), sibling)
    : sha(Buffer.from([1]), sibling, rootFromPath(m - k, n - k, leaf, path));
}
function rootsFromConsistency(
  m: number,
  n: number,
  complete: boolean,
  oldRoot: Buffer,
  proof: Buffer[],
): [Buffer, Buffer] {
  if (m === n) {
    if (complete) return [oldRoot, oldRoot];
    expect(proof).toHaveLength(1);
    const h = proof.pop()!;
    return [h, h];
  }
  const k = split(n);
  const node = proof.pop()!;
  if (m <= k) {
    const [o, nn] = rootsFromConsistency(m, k, complete, oldRoot, proof);
    return [o, sha(Buffer.from([1]), nn, node)];
  }
  const [o, nn] = rootsFromConsistency(m - k, n - k, false, oldRoot, proof);
  return [sha(Buffer.from([1]), node, o), sha(Buffer.from([1]), node, nn)];
}

describe('the verifiable audit log', () => {
  it('holds every event once, gap-free, and verifies against its signed checkpoints', async () => {
    const { rows } = await lab.sql.query<{ n: number; lo: string; hi: string; ids: number }>(
      'select count(*)::int as n, min(seq) as lo, max(seq) as hi, count(distinct event_id)::int as ids from audit.entries',
    );
    expect(rows[0]).toEqual({ n: eventCount, lo: '0', hi: String(eventCount - 1), ids: eventCount });
    const result = await verifyFromDatabase();
    expect(result).toMatchObject({ ok: true, treeSize: eventCount });
    expect(result.checkpointsChecked).toBeGreaterThanOrEqual(2);
    const viaService = await callUnary(client.verify.bind(client), { checkpointNote: '' }, as());
    expect(viaService).toMatchObject({ ok: true, treeSize: eventCount, firstBadSeq: -1 });
  });

  it('serves inclusion and consistency proofs that an independent RFC 6962 verifier accepts', async () => {
    const latest = await callUnary(client.latestCheckpoint.bind(client), {}, as());
    const checkpoint = new NoteVerifier(latest.verifierKey).open(latest.checkpoint!.note);
    expect(checkpoint.treeSize).toBe(eventCount);
    for (const seq of [0, 1, 17, eventCount - 1]) {
      const proof = await callUnary(
        client.inclusionProof.bind(client),
        {
          seq,
          treeSize: eventCount,
        },
        as(),
      );
      expect(sha(Buffer.from([0]), proof.entry).equals(proof.leafHash)).toBe(true);
      expect(JSON.parse(proof.entry.toString()).seq).toBe(seq);
      const root = rootFromPath(seq, eventCount, proof.leafHash, [...proof.path]);
      expect(root.equals(checkpoint.rootHash)).toBe(true);
    }
    const { rows } = await lab.sql.query<{ tree_size: string; root_hash: Buffer }>(
      'select tree_size, root_hash from audit.checkpoints where tree_size < $1 order by tree_size',
      [eventCount],
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const old of rows) {
      const oldSize = Number(old.tree_size);
      if (oldSize === 0) continue;
      const { proof } = await callUnary(client.consistencyProof.bind(client), { oldSize, newSize: eventCount }, as());
      const [oldRoot, newRoot] = rootsFromConsistency(oldSize, eventCount, true, old.root_hash, [...proof]);
      expect(oldRoot.equals(old.root_hash)).toBe(true);
      expect(newRoot.equals(checkpoint.rootHash)).toBe(true);
    }
  });

  it('refuses proofs outside the tree, naming the field', async () => {
    const beyond = await failureOf<{ code: string; message: string }>(
      callUnary(
        client.inclusionProof.bind(client),
        { seq: eventCount, treeSize: eventCount } satisfies audit.InclusionProofRequest,
        as(),
      ),
    );
    expect(beyond.code).toBe('invalid_argument');
    expect(beyond.message).toContain('seq:');
    const tooBig = await failureOf<{ code: string; message: string }>(
      callUnary(client.consistencyProof.bind(client), { oldSize: 1, newSize: eventCount + 5 }, as()),
    );
    expect(tooBig.code).toBe('invalid_argument');
    expect(tooBig.message).toContain('new_size:');
  });

  it('lets only auditors and administrators read the log', async () => {
    for (const user of ['peel-officer', 'london-intake', 'london-supervisor']) {
      const refused = await failureOf<{ code: string; message: string }>(
        callUnary(client.verify.bind(client), { checkpointNote: '' }, as(user)),
      );
      expect(refused.code).toBe('permission_denied');
    }
    const admin = await callUnary(
      client.query.bind(client),
      audit.QueryRequest.fromPartial({ action: 'directory.v1.agency_upserted', limit: 10 }),
      as('admin'),
    );
    expect(admin.entries).toHaveLength(1);
  });

  it("gives the service's own login no way to change or remove an entry, nor to grant itself one", async () => {
    const asService = new pg.Client({ connectionString: await lab.serviceRoleUrl() });
    await asService.connect();
    try {
      const { rows } = await asService.query<{ me: string }>('select current_user as me');
      expect(rows).toEqual([{ me: 'passage_audit' }]);
      // It owns nothing and holds no grant option: a GRANT gives it nothing ("no privileges were granted")…
      await asService.query('grant update, delete on audit.entries to passage_audit').catch(() => undefined);
      for (const statement of [
        `update audit.entries set action = 'x' where seq = 0`,
        'delete from audit.entries where seq = 0',
        'truncate audit.entries',
        `update audit.checkpoints set note = 'x'`,
        'delete from audit.tree_nodes',
        'delete from audit.parked_events',
        // …nor can it become the owner, who could.
        'set role passage_audit_owner',
        'alter table audit.entries owner to passage_audit',
        'reset role; update audit.entries set action = $$x$$ where seq = 0',
      ]) {
        const error = await asService.query(statement).then(
          () => undefined,
          (e: unknown) => e as { code?: string },
        );
        expect(error?.code, statement).toBe('42501');
      }
    } finally {
      await asService.end();
    }
    expect(await lab.entries()).toBe(eventCount);
  });

  it('parks a malformed event with its error and writes nothing of it', async () => {
    const malformed = Buffer.from(`not protobuf ${randomUUID()}`);
    await lab.publishRaw(lab.topology.referral('peel-regional-police', 'london-coalition', 'sent'), malformed);
    const parked = async () =>
      (await lab.sql.query<{ error: string }>('select error from audit.parked_events where payload = $1', [malformed]))
        .rows;
    await waitUntil(async () => (await parked()).length > 0);
    const rows = await parked();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.error).toMatch(/undecodable|not a UUID|malformed/);
    expect(await lab.entries()).toBe(eventCount);
  });

  it('keeps every good event of a batch in which one is parked, and a redelivered batch adds nothing', async () => {
    const pool = new pg.Pool({ connectionString: lab.db.url, max: 1 });
    try {
      const store = new PgLogStore(pool);
      const stream = 'TEST_BATCH';
      const incoming = (streamSeq: number) => {
        const id = randomUUID();
        return {
          eventId: id,
          subject: 'directory.v1.agency_upserted',
          stream,
          streamSeq,
          receivedAt: new Date('2026-11-28T12:00:00Z'),
          event: { id, type: 'directory.v1.agency_upserted' },
          fields: {
            action: 'directory.v1.agency_upserted',
            occurredAt: undefined,
            actorAgency: '',
            actorUser: '',
            actorRole: '',
            referralId: '',
            subjectRef: '',
            fromAgency: '',
            toAgency: '',
          },
        };
      };
      const before = await lab.entries();
      const parked = [{ subject: 'x', stream, streamSeq: 3, payload: Buffer.from('junk'), error: 'undecodable' }];
      const result = await store.append([incoming(1), incoming(2), incoming(4)], parked);
      expect(result.appended).toBe(3);
      expect(await lab.entries()).toBe(before + 3);
      // The same batch again (a redelivery): nothing doubled, the parked event not parked twice.
      expect((await store.append([incoming(1), incoming(2), incoming(4)], parked)).appended).toBe(0);
      const { rows } = await lab.sql.query<{ n: number }>(
        `select count(*)::int as n from audit.parked_events where stream = $1`,
        [stream],
      );
      expect(rows[0]!.n).toBe(1);
      eventCount += 3;
      await waitUntil(async () => (await checkpointSize()) === eventCount);
    } finally {
      await pool.end();
    }
  });

  it('names the entry whose bytes were changed in the database', async () => {
    const flip = (seq: number) =>
      tamper(`update audit.entries set entry = set_byte(entry, 40, get_byte(entry, 40) # 1) where seq = ${seq}`);
    await flip(17);
    const result = await verifyFromDatabase();
    expect(result).toMatchObject({ ok: false, firstBadSeq: 17 });
    expect(result.problem).toContain('17');
    await flip(17);
    expect((await verifyFromDatabase()).ok).toBe(true);
  });

  it('reads every entry once, in order, through the binary copy; one connection stays usable after a verify stops early', async () => {
    const sql = new pg.Client({ connectionString: lab.db.url });
    await sql.connect();
    try {
      const pages: number[][] = [];
      for await (const page of scanEntries(sql, 7)) pages.push(page.map((stored) => stored.seq));
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.slice(0, -1).every((page) => page.length >= 7)).toBe(true);
      const { rows } = await sql.query<{ n: number }>('select count(*)::int as n from audit.entries');
      expect(pages.flat()).toEqual(Array.from({ length: rows[0]!.n }, (_, seq) => seq));

      await tamper(`update audit.entries set entry = set_byte(entry, 40, get_byte(entry, 40) # 1) where seq = 3`);
      const result = await verifyLog({
        entries: scanEntries(sql, 2),
        checkpointNotes: await storedCheckpointNotes(sql),
        verifierKey: lab.service!.verifierKey,
      });
      expect(result).toMatchObject({ ok: false, firstBadSeq: 3 });
      await tamper(`update audit.entries set entry = set_byte(entry, 40, get_byte(entry, 40) # 1) where seq = 3`);
      expect((await sql.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await sql.end();
    }
  });

  it('catches a rewrite that also fixes the stored leaf hash, by the signed checkpoints', async () => {
    const { rows } = await lab.sql.query<{ entry: Buffer; leaf_hash: Buffer }>(
      'select entry, leaf_hash from audit.entries where seq = 5',
    );
    const original = rows[0]!;
    const forged = Buffer.from(original.entry.toString().replace('"synthetic-user"', '"someone-else"'));
    const forgedLeaf = sha(Buffer.from([0]), forged);
    await lab.sql.query('begin');
    await lab.sql.query('set local session_replication_role = replica');
    await lab.sql.query('update audit.entries set entry = $1, leaf_hash = $2 where seq = 5', [forged, forgedLeaf]);
    await lab.sql.query('commit');
    const result = await verifyFromDatabase();
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/does not match its signed checkpoint: an entry from seq \d+ to \d+ was altered/);
    await lab.sql.query('begin');
    await lab.sql.query('set local session_replication_role = replica');
    await lab.sql.query('update audit.entries set entry = $1, leaf_hash = $2 where seq = 5', [
      original.entry,
      original.leaf_hash,
    ]);
    await lab.sql.query('commit');
    expect((await verifyFromDatabase()).ok).toBe(true);
  });

  it('detects deleted newest entries against a checkpoint saved outside the database', async () => {
    const saved = (await storedCheckpointNotes(lab.sql)).at(-1)!;
    expect((await verifyFromDatabase(saved)).ok).toBe(true);
    // The attacker removes the tail and the checkpoints that covered it.
    await tamper(`delete from audit.entries where seq >= ${eventCount - 3}`);
    await tamper(`delete from audit.checkpoints where tree_size > ${eventCount - 3}`);
    const withoutSaved = await verifyFromDatabase();
    expect(withoutSaved.ok).toBe(true); // what the database alone can no longer show
    const result = await verifyFromDatabase(saved);
    expect(result).toMatchObject({ ok: false, firstBadSeq: eventCount - 3 });
    expect(result.problem).toContain('saved checkpoint');
  });
});
