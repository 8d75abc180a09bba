// `pnpm bench:escalation`: 100,000 pending timers, 10,000 of them falling due at once, fired
// twice in one run on the same services: by the escalation service (its own process, four
// loops, batches of ESCALATION_BATCH; ADR 47), then by the peer a user would pick instead,
// graphile-worker (npm; a job per timer, its task firing the timer through the service's own
// code, bench/escalation-peer.ts, in a process of its own). Each on 10,000 referrals of its own;
// the same 90,000 timers due next week pending beside them (and as graphile-worker jobs for the
// peer). Every firing is real: the escalation recorded by referrals (transaction + outbox event,
// which the escalation consumer then reads), the directory's suggestions, consent asked for the
// crisis line, the items written, the timer marked fired. Prints figures; asserts nothing.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sendReferral } from '@passage/escalation/testing';
import { startNetwork, type Network } from '@passage/referrals/testing';
import { testTls } from '@passage/platform/testing';
import { runScript, sparePort, waitForServing, type ScriptProcess } from '@passage/testing';
import { reportTarget } from './summary.ts';

const pending = Number(process.env['BENCH_TIMERS'] ?? 100_000);
const dueAtOnce = Number(process.env['BENCH_DUE'] ?? 10_000);
const workers = process.env['BENCH_WORKERS'] ?? '4';
const batch = process.env['BENCH_BATCH'] ?? '50';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const escalationDir = fileURLToPath(new URL('../../services/escalation/', import.meta.url));
const fmt = (value: number) => Math.round(value).toLocaleString('en-CA');

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
const processes: ScriptProcess[] = [];
console.log(
  `machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

interface Firing {
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly escalations: number;
  readonly items: number;
}

/** Waits until every timer of `referrals` fired; lateness from `dueAt`, the instant they all fell due. */
async function fired(referrals: readonly string[], dueAt: Date): Promise<Firing> {
  for (;;) {
    const { rows } = await n.sql.query<{ n: number }>(
      `select count(*)::int as n from escalation.timers where referral_id = any($1::uuid[]) and state = 'fired'`,
      [referrals],
    );
    if (rows[0]!.n >= referrals.length) break;
    await sleep(500);
  }
  const { rows } = await n.sql.query<{ late_ms: number }>(
    `select extract(epoch from fired_at - $2::timestamptz) * 1000 as late_ms from escalation.timers
     where referral_id = any($1::uuid[]) and state = 'fired'`,
    [referrals, dueAt.toISOString()],
  );
  const lateness = rows.map((row) => row.late_ms);
  const max = Math.max(...lateness);
  const { rows: items } = await n.sql.query<{ n: number }>(
    'select count(*)::int as n from escalation.items where referral_id = any($1::uuid[])',
    [referrals],
  );
  const { rows: events } = await n.sql.query<{ n: number }>(
    `select count(*)::int as n from referrals.transitions where event = 'escalated' and referral_id = any($1::uuid[])`,
    [referrals],
  );
  return {
    rate: referrals.length / (max / 1000),
    p50: percentile(lateness, 50) / 1000,
    p99: percentile(lateness, 99) / 1000,
    max: max / 1000,
    escalations: events[0]!.n,
    items: items[0]!.n,
  };
}

/** Timers for these referrals' acknowledge-by, due at `dueAt`. */
async function timersFor(referrals: readonly string[], dueAt: Date): Promise<void> {
  await n.sql.query(
    `insert into escalation.timers (referral_id, target, due_at, subject_ref, from_agency, to_agency, priority, needs)
     select id, 'acknowledge', $2, subject_ref, from_agency, to_agency, priority, array['counselling']
     from referrals.referrals where id = any($1::uuid[])`,
    [referrals, dueAt.toISOString()],
  );
  await n.sql.query('analyze escalation.timers');
}

try {
  // One referral sent for real; its row copied for the others, each with an id and reference of its own.
  const { referralId } = await sendReferral(n);
  await copyReferral(n, referralId, 2 * dueAtOnce - 1);
  const { rows: referralRows } = await n.sql.query<{ id: string }>('select id from referrals.referrals order by id');
  const forPassage = referralRows.slice(0, dueAtOnce).map((row) => row.id);
  const forPeer = referralRows.slice(dueAtOnce, 2 * dueAtOnce).map((row) => row.id);

  const env = {
    ...n.referralsEnv,
    // gRPC is mutual TLS (the settings are given); NATS is the shared plaintext server, which only development allows.
    PASSAGE_ENV: 'development',
    ...testTls('escalation').env,
    REFERRALS_ADDRESS: n.referralService!.address,
    SERVICE_TOKEN_KEY: n.serviceTokenKey,
    ESCALATION_WORKERS: workers,
    ESCALATION_BATCH: batch,
    LOG_LEVEL: 'warn',
  };
  const port = await sparePort();
  const escalation = runScript('src/main.ts', { ...env, GRPC_PORT: String(port) }, { cwd: escalationDir });
  processes.push(escalation);
  await waitForServing(port, 30_000, n.credentials);
  // The sent referral's own timers arrive through the stream; wait, then take them away.
  while ((await n.sql.query('select 1 from escalation.timers')).rowCount === 0) await sleep(50);
  await n.sql.query('delete from escalation.timers');
  // The backlog beside them: timers due next week.
  await n.sql.query(
    `insert into escalation.timers (referral_id, target, due_at, subject_ref, from_agency, to_agency, priority, needs)
     select gen_random_uuid(), 'accept', now() + interval '7 days' + g * interval '1 second', gen_random_uuid(),
            'peel-regional-police', 'london-coalition', 'standard', array['counselling']
     from generate_series(1, $1::int) g`,
    [pending - dueAtOnce],
  );

  // 1. The escalation service: its timers due together in 5 s.
  const passageDue = new Date(Date.now() + 5000);
  await timersFor(forPassage, passageDue);
  const { rows: counted } = await n.sql.query<{ n: number }>(
    `select count(*)::int as n from escalation.timers where state = 'pending'`,
  );
  console.log(`${fmt(counted[0]!.n)} pending timers; ${fmt(dueAtOnce)} due at ${passageDue.toISOString()}`);
  const passage = await fired(forPassage, passageDue);
  console.log(`escalation service: ${fmt(passage.rate)} timers/s, p99 lateness ${passage.p99.toFixed(1)} s`);

  // 2. graphile-worker: the peer's timers wait in the table far ahead (the service's loops never
  // take them); its jobs fall due together in 5 s, beside the backlog's jobs due next week. The
  // escalation service keeps running: its consumer reads the peer's escalations as it read its own.
  await timersFor(forPeer, new Date(Date.UTC(2100, 0, 1)));
  const peer = runScript('bench/escalation-peer.ts', env, { cwd: fileURLToPath(new URL('../', import.meta.url)) });
  processes.push(peer);
  await peer.waitForLine(/peer ready/, 60_000);
  const peerDue = new Date(Date.now() + 5000);
  await n.sql.query(
    `select graphile_worker.add_jobs(array(
       select row('escalate_timer', json_build_object('timerId', t.id), null,
                  case when t.referral_id = any($1::uuid[]) then $2::timestamptz else t.due_at end,
                  null, null, null, null)::graphile_worker.job_spec
       from escalation.timers t where t.state = 'pending'))`,
    [forPeer, peerDue.toISOString()],
  );
  console.log(`${fmt(pending)} graphile-worker jobs; ${fmt(dueAtOnce)} due at ${peerDue.toISOString()}`);
  const graphile = await fired(forPeer, peerDue);
  console.log(`graphile-worker: ${fmt(graphile.rate)} timers/s, p99 lateness ${graphile.p99.toFixed(1)} s`);

  const rows: [string, string][] = [
    ['machine', `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)} at the end`],
    ['pending timers / due at once', `${fmt(pending)} / ${fmt(dueAtOnce)}`],
    [`escalation service (${workers} loops, batches of ${batch}): firing rate`, `${fmt(passage.rate)} timers/s`],
    [
      'escalation service: lateness p50 / p99 / max',
      `${passage.p50.toFixed(1)} / ${passage.p99.toFixed(1)} / ${passage.max.toFixed(1)} s`,
    ],
    ['peer: graphile-worker 0.18.0 (concurrency ' + workers + '), same firing code', `${fmt(graphile.rate)} timers/s`],
    [
      'peer: lateness p50 / p99 / max',
      `${graphile.p50.toFixed(1)} / ${graphile.p99.toFixed(1)} / ${graphile.max.toFixed(1)} s`,
    ],
    [
      'escalation service ÷ graphile-worker (target ≥ 1×)',
      `${(passage.rate / graphile.rate).toFixed(2)}× — ${passage.rate >= graphile.rate ? 'met' : '**missed**'}`,
    ],
    [
      'escalation service p99 lateness (target ≤ 15 s)',
      `${passage.p99.toFixed(1)} s — ${passage.p99 <= 15 ? 'met' : '**missed**'}`,
    ],
    [
      'escalations recorded / items written (service; peer)',
      `${fmt(passage.escalations)} / ${fmt(passage.items)}; ${fmt(graphile.escalations)} / ${fmt(graphile.items)}`,
    ],
  ];
  console.log('\n| escalation under backlog | value |\n| --- | ---: |');
  for (const [measure, value] of rows) console.log(`| ${measure} | ${value} |`);
  const size = `${fmt(dueAtOnce)} due at once among ${fmt(pending)} pending`;
  reportTarget({
    bench: 'escalation',
    measure: `escalation p99 lateness, ${size}`,
    value: passage.p99,
    unit: 's',
    target: '≤ 15 s',
    met: passage.p99 <= 15,
  });
  reportTarget({
    bench: 'escalation',
    measure: `escalation firing rate ÷ graphile-worker's, ${size}`,
    value: passage.rate,
    unit: 'timers/s',
    target: '≥ 1×',
    ratio: passage.rate / graphile.rate,
    met: passage.rate >= graphile.rate,
  });
} finally {
  for (const child of processes.reverse()) await child.kill('SIGTERM');
  await n.stop();
}
