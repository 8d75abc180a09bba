import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NoteSigner, NoteVerifier } from '@passage/audit-log';
import pg from 'pg';
import { PgLogStore } from '../src/adapters/db/log-store.ts';
import { Checkpointer } from '../src/app/checkpointer.ts';
import type { IncomingEvent } from '../src/app/ports.ts';
import { startAuditLab, type AuditLab } from './support.ts';

// The checkpoint policy on a clock of the test's own: no waiting, no timing.
let lab: AuditLab;
let pool: pg.Pool;

beforeAll(async () => {
  // The lab's service only creates the schema here: nothing is published to it.
  lab = await startAuditLab('auditckpt', { config: { AUDIT_CHECKPOINT_SECONDS: '3600' } });
  pool = new pg.Pool({ connectionString: lab.db.url, max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await lab?.stop();
});

let streamSeq = 0;
function incoming(): IncomingEvent {
  const id = randomUUID();
  streamSeq += 1;
  return {
    eventId: id,
    subject: 'directory.v1.agency_upserted',
    stream: 'TEST_CHECKPOINTS',
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
}

it('signs once the tree has grown and T seconds have passed, never before, and signs what is left when asked at shutdown', async () => {
  const store = new PgLogStore(pool);
  const signer = new NoteSigner('passage.test/ckpt', randomBytes(32));
  let clock = Date.UTC(2026, 10, 30, 9);
  const checkpointer = new Checkpointer(
    store,
    signer,
    'passage.test/ckpt',
    { everyEntries: 100, everyMs: 10_000 },
    () => clock,
  );
  const append = async (n: number) => (await store.append(Array.from({ length: n }, incoming), [])).size;

  // No checkpoint yet: the first growth is signed at once.
  expect((await checkpointer.maybeSign(await append(3)))?.treeSize).toBe(3);
  const size = await append(2);
  clock += 9_999;
  expect(await checkpointer.maybeSign(size)).toBeUndefined();
  clock += 1;
  const second = await checkpointer.maybeSign(size);
  expect(second?.treeSize).toBe(5);
  expect(new NoteVerifier(signer.verifierKey).open(second!.note).treeSize).toBe(5);
  // T seconds with no growth: nothing to sign.
  clock += 60_000;
  expect(await checkpointer.maybeSign(size)).toBeUndefined();

  // The shutdown step: whatever is unsigned, however recent.
  const last = await append(1);
  expect((await checkpointer.maybeSign(last))?.treeSize).toBe(last); // grown, and 60 s since the last
  const tail = await append(2);
  expect(await checkpointer.maybeSign(tail)).toBeUndefined();
  expect((await checkpointer.signPending(tail))?.treeSize).toBe(tail);
  expect(await checkpointer.signPending(tail)).toBeUndefined();
  const { rows } = await lab.sql.query<{ tree_size: string }>('select tree_size from audit.checkpoints order by 1');
  expect(rows.map((row) => Number(row.tree_size))).toEqual([3, 5, 6, 8]);
});
