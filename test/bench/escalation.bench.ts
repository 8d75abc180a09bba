// `pnpm bench:escalation`: 100,000 pending timers, 10,000 of them falling due at once. The
// escalation service runs as its own process (four workers), the directory, consent and
// referrals services in this one; every firing is real: Escalate recorded by referrals
// (transaction + outbox event), candidates from directory.Match, consent asked for the
// crisis line, items written. Prints figures; asserts nothing.
import { fileURLToPath } from 'node:url';
import { sendReferral } from '@passage/escalation/testing';
import { startNetwork, type Network } from '@passage/referrals/testing';
import { testTls } from '@passage/platform/testing';
import { runScript, sparePort, waitForServing, type ScriptProcess } from '@passage/testing';

const pending = Number(process.env['BENCH_TIMERS'] ?? 100_000);
const dueAtOnce = Number(process.env['BENCH_DUE'] ?? 10_000);
const workers = process.env['BENCH_WORKERS'] ?? '4';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const escalationDir = fileURLToPath(new URL('../../services/escalation/', import.meta.url));

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Copies of a referral's row, every column as it is but its id and short reference number. */
async function copyReferral(network: Network, referralId: string, copies: number): Promise<void> {
  const { rows } = await network.sql.query<{ name: string }>(
    `select column_name as name from information_schema.columns
     where table_schema = 'referrals' and table_name = 'referrals' order by ordinal_position`,
  );
  const fresh: Record<string, string> = {
    id: '(md5(random()::text || g::text))::uuid',
    reference_no: "nextval('referrals.reference_numbers')",
  };
  const columns = rows.map((row) => row.name);
  await network.sql.query(
    `insert into referrals.referrals (${columns.join(', ')})
     select ${columns.map((c) => fresh[c] ?? c).join(', ')}
     from referrals.referrals, generate_series(1, $2::int) g where id = $1`,
    [referralId, copies],
  );
}

const n: Network = await startNetwork('benchescalation');
let escalation: ScriptProcess | undefined;
try {
  // One referral sent for real; its row copied for the others, each with an id and reference of its own.
  const { referralId } = await sendReferral(n);
  await copyReferral(n, referralId, dueAtOnce - 1);

  const port = await sparePort();
  escalation = runScript(
    'src/main.ts',
    {
      ...n.referralsEnv,
      // gRPC is mutual TLS (the settings are given); NATS is the shared plaintext server, which only development allows.
      PASSAGE_ENV: 'development',
      ...testTls('escalation').env,
      REFERRALS_ADDRESS: n.referralService!.address,
      SERVICE_TOKEN_KEY: n.serviceTokenKey,
      GRPC_PORT: String(port),
      ESCALATION_WORKERS: workers,
      LOG_LEVEL: 'warn',
    },
    { cwd: escalationDir },
  );
  await waitForServing(port, 30_000, n.credentials);
  // The sent referral's own timers arrive through the stream; wait, then take them away.
  while ((await n.sql.query('select 1 from escalation.timers')).rowCount === 0) await sleep(50);
  await n.sql.query('delete from escalation.timers');

  // 10,000 timers for the referrals above, due together in 5 s; 90,000 more due next week.
  const dueAt = new Date(Date.now() + 5000);
  await n.sql.query(
    `insert into escalation.timers (referral_id, target, due_at, subject_ref, from_agency, to_agency, priority, needs)
     select id, 'acknowledge', $1, subject_ref, from_agency, to_agency, priority, array['counselling']
     from referrals.referrals`,
    [dueAt.toISOString()],
  );
  await n.sql.query(
    `insert into escalation.timers (referral_id, target, due_at, subject_ref, from_agency, to_agency, priority, needs)
     select gen_random_uuid(), 'accept', now() + interval '7 days' + g * interval '1 second', gen_random_uuid(),
            'peel-regional-police', 'london-coalition', 'standard', array['counselling']
     from generate_series(1, $1::int) g`,
    [pending - dueAtOnce],
  );
  await n.sql.query('analyze escalation.timers');
  const { rows: counted } = await n.sql.query<{ n: number }>(
    `select count(*)::int as n from escalation.timers where state = 'pending'`,
  );
  console.log(
    `${counted[0]!.n.toLocaleString('en-CA')} pending timers; ${dueAtOnce.toLocaleString('en-CA')} due at ${dueAt.toISOString()}`,
  );

  for (;;) {
    const { rows } = await n.sql.query<{ n: number }>(
      `select count(*)::int as n from escalation.timers where state = 'fired'`,
    );
    if (rows[0]!.n >= dueAtOnce) break;
    await sleep(500);
  }
  const { rows } = await n.sql.query<{ late_ms: number }>(
    `select extract(epoch from fired_at - due_at) * 1000 as late_ms from escalation.timers where state = 'fired'`,
  );
  const lateness = rows.map((row) => row.late_ms);
  const seconds = Math.max(...lateness) / 1000;
  const { rows: items } = await n.sql.query<{ n: number }>('select count(*)::int as n from escalation.items');
  const { rows: events } = await n.sql.query<{ n: number }>(
    `select count(*)::int as n from referrals.transitions where event = 'escalated'`,
  );
  console.log('\n| measure | value |\n| --- | ---: |');
  console.log(`| pending timers | ${pending.toLocaleString('en-CA')} |`);
  console.log(`| due at once | ${dueAtOnce.toLocaleString('en-CA')} |`);
  console.log(
    `| firing throughput (${workers} workers, one instance) | ${Math.round(dueAtOnce / seconds).toLocaleString('en-CA')} timers/s |`,
  );
  console.log(
    `| lateness p50 / p99 / max | ${(percentile(lateness, 50) / 1000).toFixed(1)} / ${(percentile(lateness, 99) / 1000).toFixed(1)} / ${seconds.toFixed(1)} s |`,
  );
  console.log(
    `| escalations recorded by referrals / items written | ${events[0]!.n.toLocaleString('en-CA')} / ${items[0]!.n.toLocaleString('en-CA')} |`,
  );
} finally {
  await escalation?.kill('SIGTERM');
  await n.stop();
}
