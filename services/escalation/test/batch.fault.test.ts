import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { issuerFromEnv } from '@passage/auth';
import { createLogger, grpcTransport, loadConfig } from '@passage/platform';
import { startNetwork, waitUntil, type Network } from '@passage/referrals/testing';
import { PgTimerStore } from '../src/adapters/db/timer-store.ts';
import { GrpcConsent, GrpcDirectory, GrpcReferrals, ServiceIdentity } from '../src/adapters/grpc/gateways.ts';
import { EscalationWorker } from '../src/app/escalation-worker.ts';
import type { TimerStore } from '../src/app/ports.ts';
import { escalationConfigSchema } from '../src/config.ts';
import type { RunningEscalation } from '../src/service.ts';
import { TestClock, escalatedEvents, escalationEnv, sendReferral, startEscalationIn, timerStates } from './support.ts';

// A batch that dies after the referrals service recorded its escalations and before the
// escalation transaction commits (ADR 47): no timer of it is left half fired, and firing it
// again records no second escalation and writes each item once.
let n: Network;
let service: RunningEscalation;
let pool: pg.Pool;
const log = createLogger('escalation-batch-test', process.env['LOG_LEVEL'] ?? 'silent');
// The service's own workers run on a clock that never reaches the timers: this test's worker fires them.
const serviceClock = new TestClock();
serviceClock.moveTo(new Date(Date.UTC(2000, 0, 1)));

beforeAll(async () => {
  n = await startNetwork('escalationbatch');
  ({ service } = await startEscalationIn(n, serviceClock));
  pool = new pg.Pool({ connectionString: n.referralsEnv['DATABASE_URL'], max: 3 });
});

afterAll(async () => {
  await pool?.end();
  await service?.shutdown.run();
  await n?.stop();
});

function workerWith(store: TimerStore): { worker: EscalationWorker; close: () => void } {
  const config = loadConfig(escalationConfigSchema, escalationEnv(n));
  const { clientCredentials } = grpcTransport(config, log);
  const identity = new ServiceIdentity(issuerFromEnv(config));
  const referrals = new GrpcReferrals(config.REFERRALS_ADDRESS, clientCredentials, identity);
  const directory = new GrpcDirectory(config.DIRECTORY_ADDRESS, clientCredentials);
  const consent = new GrpcConsent(config.CONSENT_ADDRESS, clientCredentials, identity);
  const worker = new EscalationWorker(
    { store, referrals, directory, consent },
    { crisisLine: config.ESCALATION_CRISIS_LINE, pollMs: 100, concurrency: 1, batchSize: 10 },
    log,
  );
  return {
    worker,
    close: () => {
      referrals.close();
      directory.close();
      consent.close();
    },
  };
}

it('leaves no timer half fired when a batch dies before its commit, and escalates each once when fired again', async () => {
  const sent = await Promise.all([sendReferral(n), sendReferral(n), sendReferral(n), sendReferral(n)]);
  const ids = sent.map((s) => s.referralId);
  for (const id of ids) await waitUntil(async () => Object.keys(await timerStates(n, id)).length === 2, 20_000);
  // Both targets of the first referral due, and the acknowledge-by of the others: one batch, two timers of one referral.
  await n.sql.query(
    `update escalation.timers set due_at = now() - interval '1 minute'
     where referral_id = any($1::uuid[]) and (target = 'acknowledge' or referral_id = $2)`,
    [ids, ids[0]],
  );
  const store = new PgTimerStore(pool);
  // The process "dies" once referrals has answered: its settlement never reaches the database.
  let settleCalls = 0;
  const dying: TimerStore = {
    withTimers: (ids, now, work) => store.withTimers(ids, now, work),
    nextDueAt: () => store.nextDueAt(),
    timers: (state, limit) => store.timers(state, limit),
    items: (agency, supervisors, limit) => store.items(agency, supervisors, limit),
    withDueTimers: (now, limit, work) =>
      store.withDueTimers(now, limit, (batch) =>
        work({
          timers: batch.timers,
          settle: () => {
            settleCalls += 1;
            return Promise.reject(new Error('killed before the commit'));
          },
        }),
      ),
  };
  const first = workerWith(dying);
  try {
    await expect(first.worker.fireNext()).rejects.toThrow('killed before the commit');
  } finally {
    first.close();
  }
  expect(settleCalls).toBe(1);
  // Recorded by referrals, yet every timer still pending as it was, no item written.
  for (const id of ids) expect(await escalatedEvents(n, id)).toBeGreaterThan(0);
  const { rows: after } = await n.sql.query<{ state: string; attempts: number }>(
    'select state, attempts from escalation.timers where referral_id = any($1::uuid[])',
    [ids],
  );
  expect(after.length).toBe(8);
  expect(after.every((row) => row.state === 'pending' && row.attempts === 0)).toBe(true);
  expect(
    (await n.sql.query('select 1 from escalation.items where referral_id = any($1::uuid[])', [ids])).rowCount,
  ).toBe(0);

  const second = workerWith(store);
  try {
    expect(await second.worker.fireNext()).toBe(true);
  } finally {
    second.close();
  }
  const { rows: fired } = await n.sql.query<{ referral_id: string; target: string; state: string }>(
    'select referral_id, target, state from escalation.timers where referral_id = any($1::uuid[]) and state = $2',
    [ids, 'fired'],
  );
  expect(fired.length).toBe(5);
  // One escalation recorded per timer fired (the first referral's two targets are two steps), none twice.
  expect(await escalatedEvents(n, ids[0]!)).toBe(2);
  for (const id of ids.slice(1)) expect(await escalatedEvents(n, id)).toBe(1);
  const { rows: items } = await n.sql.query<{ referral_id: string; audience: string }>(
    'select referral_id, audience from escalation.items where referral_id = any($1::uuid[]) order by audience',
    [ids],
  );
  expect(items.length).toBeGreaterThan(0);
  // The first referral's second missed target, fired in the same batch as its first, tells its supervisors.
  expect(items.filter((item) => item.referral_id === ids[0]).map((item) => item.audience)).toEqual([
    'crisis_line',
    'sender',
    'supervisors',
  ]);
  for (const id of ids.slice(1)) {
    expect(items.filter((item) => item.referral_id === id).map((item) => item.audience)).toEqual([
      'crisis_line',
      'sender',
    ]);
  }
});
