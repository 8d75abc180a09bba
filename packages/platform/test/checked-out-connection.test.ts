import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, runScript, type TestDatabase } from '@passage/testing';

// A connection lost while checked out of the pool (a service holds one across a transaction,
// or while it calls another service) must cost that transaction, never the process. pg emits
// 'error' on a checked-out client with no listener: before the fix, the audit and escalation
// services exited on every Postgres stop (found by pnpm test:chaos).
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('checkedout');
});

afterAll(async () => {
  await db?.drop();
});

it('survives the loss of a connection it holds checked out', async () => {
  const holder = runScript(fileURLToPath(new URL('./fixtures/hold-connection.ts', import.meta.url)), {
    DATABASE_URL: db.url,
  });
  try {
    const pid = Number((await holder.waitForLine(/^holding backend \d+$/, 30_000)).split(' ').pop());
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      expect((await admin.query('select pg_terminate_backend($1) as done', [pid])).rows[0].done).toBe(true);
    } finally {
      await admin.end();
    }
    expect(await holder.waitForLine(/^lost connection/, 30_000)).toBe(
      'lost connection refused a query: yes; the pool answers: 1',
    );
    expect(await holder.exited()).toEqual({ code: 0, signal: null });
  } finally {
    await holder.kill();
  }
});
