import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  Frontier,
  checkpointSigner,
  leafHash,
  storedCheckpointNotes,
  storedEntries,
  verifyLog,
} from '@passage/audit-log';
import {
  createTestDatabase,
  runScript,
  sparePort,
  waitForServing,
  waitUntil,
  type TestDatabase,
} from '@passage/testing';
import pg from 'pg';
import { referralEvents, startAuditLab, type AuditLab } from './support.ts';

// The audit service as its own process, killed with SIGKILL in the middle of ingesting:
// after a restart the log has every event once, no gap, and the very tree a clean run over
// the same events builds.
const auditDir = fileURLToPath(new URL('../', import.meta.url));
const events = 3000;
let lab: AuditLab;
let clean: TestDatabase;

beforeAll(async () => {
  lab = await startAuditLab('auditcrash', { service: false });
  clean = await createTestDatabase('auditclean');
  const stories = Array.from({ length: events / 3 }, (_, i) =>
    referralEvents(
      {
        from: 'peel-regional-police',
        to: 'london-coalition',
        sentAt: new Date(Date.UTC(2026, 10, 1, 12) + i * 1000),
        acknowledgeDueMinutes: 60,
        acceptDueMinutes: 240,
        acknowledged: 5,
        accepted: 10,
      },
      lab.topology,
    ),
  ).flat();
  for (const { subject, envelope } of stories) await lab.publish(envelope, subject);
});

afterAll(async () => {
  await lab?.stop();
  await clean?.drop();
});

async function startProcess(databaseUrl: string) {
  const port = await sparePort();
  const child = runScript(
    'src/main.ts',
    // Small batches, so the kill lands between many commits.
    { ...lab.env, DATABASE_URL: databaseUrl, GRPC_PORT: String(port), AUDIT_BATCH_MAX: '7', LOG_LEVEL: 'warn' },
    { cwd: auditDir },
  );
  await waitForServing(port, 30_000, lab.credentials);
  return child;
}

async function count(sql: pg.Client): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    `select case when to_regclass('audit.entries') is null then 0 else (select count(*)::int from audit.entries) end as n`,
  );
  return rows[0]!.n;
}

async function rootAndShape(sql: pg.Client) {
  const frontier = new Frontier();
  for await (const stored of storedEntries(sql)) frontier.append(leafHash(stored.entry));
  const { rows } = await sql.query<{ n: number; lo: string; hi: string; ids: number }>(
    'select count(*)::int as n, min(seq) as lo, max(seq) as hi, count(distinct event_id)::int as ids from audit.entries',
  );
  return { root: frontier.root().toString('hex'), ...rows[0]! };
}

it('loses nothing, doubles nothing and builds the same tree after a SIGKILL mid-ingest', async () => {
  const sql = new pg.Client({ connectionString: lab.db.url });
  const cleanSql = new pg.Client({ connectionString: clean.url });
  await sql.connect();
  await cleanSql.connect();
  try {
    const doomed = await startProcess(lab.db.url);
    await waitUntil(async () => (await count(sql)) >= 300, 30_000);
    await doomed.kill('SIGKILL');
    const atKill = await count(sql);
    expect(atKill).toBeLessThan(events);

    const restarted = await startProcess(lab.db.url);
    const cleanRun = await startProcess(clean.url);
    await waitUntil(async () => (await count(sql)) >= events && (await count(cleanSql)) >= events, 60_000);
    // One event more, published after all of them: once both logs hold it, a redelivery of an
    // earlier one, were any coming, would have come before it.
    const [marker] = referralEvents(
      {
        from: 'peel-regional-police',
        to: 'london-coalition',
        sentAt: new Date(Date.UTC(2026, 10, 2, 12)),
        acknowledgeDueMinutes: 60,
        acceptDueMinutes: 240,
      },
      lab.topology,
    );
    await lab.publish(marker!.envelope, marker!.subject);
    const total = events + 1;
    await waitUntil(async () => (await count(sql)) >= total && (await count(cleanSql)) >= total, 30_000);
    await restarted.kill('SIGTERM');
    await cleanRun.kill('SIGTERM');

    const crashed = await rootAndShape(sql);
    const reference = await rootAndShape(cleanSql);
    expect(crashed).toEqual({ root: reference.root, n: total, lo: '0', hi: String(total - 1), ids: total });
    expect(reference).toMatchObject({ n: total, ids: total });

    const verifierKey = checkpointSigner({
      AUDIT_SIGNING_KEY: lab.env['AUDIT_SIGNING_KEY'],
      AUDIT_ORIGIN: lab.env['AUDIT_ORIGIN']!,
      PASSAGE_ENV: 'production',
    }).verifierKey;
    const verified = await verifyLog({
      entries: storedEntries(sql),
      checkpointNotes: await storedCheckpointNotes(sql),
      verifierKey,
    });
    expect(verified).toMatchObject({ ok: true, treeSize: total });
  } finally {
    await sql.end();
    await cleanSql.end();
  }
});
