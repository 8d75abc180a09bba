// `pnpm bench:audit`: the audit log's ingest rate and lag, and the hand-off report over a
// million referrals (`passage audit verify` is `bench:audit-verify`). Prints figures;
// asserts nothing.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { exactHandoffByAgency } from '@passage/audit/testing';
import { demoUsers } from '@passage/auth';
import { audit as apb } from '@passage/contracts';
import { Topology, connectNats, createEnvelope, encodeEnvelope, ensureStreams } from '@passage/events';
import { bearerMetadata, callUnary } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import { createTestDatabase, createTestNats } from '@passage/testing';
import { auditOn, benchIssuer } from './audit-service.ts';
import { seedHandoffReferrals } from './seed-audit.ts';
import { reportTarget } from './summary.ts';

const backlog = Number(process.env['BENCH_AUDIT_BACKLOG'] ?? 50_000);
const referrals = Number(process.env['BENCH_AUDIT_REFERRALS'] ?? 1_000_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const median = (values: readonly number[]) => percentile(values, 50);

const figures: [string, string][] = [];
let ingestRate: number;
const report = (measure: string, value: string) => {
  figures.push([measure, value]);
  console.log(`${measure}: ${value}`);
};

// 1. Ingest rate: a backlog of referral events waiting in JetStream, checkpoints on.
{
  const db = await createTestDatabase('benchauditingest');
  const nats = await createTestNats('benchauditingest');
  const nc = await connectNats({ NATS_URL: nats.url, PASSAGE_ENV: 'development' }, 'bench-audit');
  const topology = new Topology(nats.namespace);
  await ensureStreams(nc, topology.allStreams());
  const js = jetstream(nc);
  for (let start = 0; start < backlog; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, backlog - start) }, () => {
        const referralId = randomUUID();
        const envelope = createEnvelope({
          type: 'referral.v1.sent',
          actor: { agency: 'peel-regional-police', user: 'synthetic-officer', role: 'officer' },
          referralId,
          subjectRef: randomUUID(),
          fromAgency: 'peel-regional-police',
          toAgency: 'london-coalition',
          priority: 'standard',
          payload: {
            $case: 'referralChanged',
            value: {
              assignedUser: '',
              reference: '',
              referralId,
              state: 'sent',
              version: 1,
              takenOverBy: '',
              sentAt: new Date(),
              acknowledgeDueAt: new Date(Date.now() + 3_600_000),
              acceptDueAt: new Date(Date.now() + 14_400_000),
              reason: '',
              suggestedAgency: '',
              previousReferralId: '',
              needs: ['counselling'],
            },
          },
        });
        return js.publish(
          topology.referral('peel-regional-police', 'london-coalition', 'sent'),
          encodeEnvelope(envelope),
          {
            msgID: envelope.id,
          },
        );
      }),
    );
  }
  let appended = 0;
  const began = performance.now();
  const service = await auditOn(db.url, nats.url, nats.namespace, (n) => (appended += n));
  while (appended < backlog) await sleep(20);
  const rate = backlog / ((performance.now() - began) / 1000);
  ingestRate = rate;
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const { rows } = await sql.query<{ n: number }>('select count(*)::int as n from audit.checkpoints');
  report(
    'ingest rate (backlog, checkpoints every 1,000)',
    `${Math.round(rate).toLocaleString('en-CA')} entries/s (${backlog.toLocaleString('en-CA')} entries, ${rows[0]!.n} checkpoints signed, including service start)`,
  );

  // 2. The hand-off report over a million referrals, in the same database.
  const seedBegan = performance.now();
  await seedHandoffReferrals(sql, referrals);
  console.log(
    `seeded ${referrals.toLocaleString('en-CA')} referrals in ${((performance.now() - seedBegan) / 1000).toFixed(1)} s`,
  );
  const client = new apb.AuditServiceClient(service.address, testTls().clientCredentials);
  const auditor = bearerMetadata(benchIssuer.issue(demoUsers['auditor']!, 3600));
  // The exact path over the same million, once, for comparison (what the rollup saves).
  {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const t = performance.now();
    await exactHandoffByAgency(pool);
    report(
      `hand-off by agency computed exactly from every duration, ${referrals.toLocaleString('en-CA')} referrals`,
      `${(performance.now() - t).toFixed(0)} ms (one run)`,
    );
    await pool.end();
  }
  for (const groupBy of ['agency', 'region', 'priority', 'month']) {
    const times: number[] = [];
    let approximate = false;
    for (let run = 0; run < 5; run++) {
      const t = performance.now();
      ({ approximate } = await callUnary(
        client.handoffReport.bind(client),
        { groupBy, range: undefined },
        auditor,
        60_000,
      ));
      times.push(performance.now() - t);
    }
    report(
      `HandoffReport by ${groupBy}, ${referrals.toLocaleString('en-CA')} referrals`,
      `median ${median(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (5 runs${approximate ? ', from the rollup' : ', exact'})`,
    );
    reportTarget({
      bench: 'audit',
      measure: `HandoffReport by ${groupBy}, ${referrals.toLocaleString('en-CA')} referrals, median of 5 calls`,
      value: median(times),
      unit: 'ms',
      target: '< 500 ms',
      met: median(times) < 500,
    });
  }
  client.close();
  await service.shutdown.run();
  await sql.end();
  await nc.close();
  await nats.cleanup();
  await db.drop();
}

// 3. Ingest lag while the referral benchmark runs (its services, its load, its NATS namespace).
{
  const db = await createTestDatabase('benchauditlag');
  const nats = await createTestNats('benchauditlag');
  const lags: number[] = [];
  const arrivals = new Map<number, number>();
  let events = 0;
  const service = await auditOn(db.url, nats.url, nats.namespace, (n, batchLags) => {
    events += n;
    lags.push(...batchLags);
    for (const lag of batchLags) {
      const second = Math.floor((Date.now() - lag) / 1000);
      arrivals.set(second, (arrivals.get(second) ?? 0) + 1);
    }
  });
  // Its figures are the load here, not the referral benchmark's own: its target rows are not recorded.
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    BENCH_NATS_NAMESPACE: nats.namespace,
    BENCH_SECONDS: process.env['BENCH_SECONDS'] ?? '20',
  };
  delete childEnv['BENCH_SUMMARY_FILE'];
  const child = spawn(process.execPath, ['bench/referrals.bench.ts'], {
    cwd: fileURLToPath(new URL('../', import.meta.url)),
    env: childEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const childCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (childCode !== 0) console.log(`the referral benchmark exited with code ${childCode}: its load was cut short`);
  await sleep(2000);
  const peak = Math.max(...arrivals.values());
  report(
    'events from the referral benchmark',
    `${events.toLocaleString('en-CA')}, peak ${peak.toLocaleString('en-CA')} events/s (1 s windows)`,
  );
  report(
    'ingest lag (JetStream stored → log committed)',
    `p50 ${percentile(lags, 50)} ms, p99 ${percentile(lags, 99)} ms, max ${Math.max(...lags)} ms`,
  );
  reportTarget({
    bench: 'audit',
    measure: `audit ingest lag p99 while the referral benchmark runs (BENCH_SECONDS=${childEnv['BENCH_SECONDS']})`,
    value: percentile(lags, 99),
    unit: 'ms',
    target: '< 1 s',
    met: percentile(lags, 99) < 1000,
  });
  await service.shutdown.run();
  const nc = await connectNats({ NATS_URL: nats.url, PASSAGE_ENV: 'development' }, 'bench-audit-cleanup');
  const jsm = await jetstreamManager(nc);
  for (const spec of new Topology(nats.namespace).allStreams()) await jsm.streams.delete(spec.name).catch(() => false);
  await nc.close();
  await db.drop();
  report('ingest rate / peak event rate', `${(ingestRate / peak).toFixed(1)}× (target ≥ 5×)`);
  reportTarget({
    bench: 'audit',
    measure: `audit ingest rate (backlog of ${backlog.toLocaleString('en-CA')}) ÷ peak event rate of the referral benchmark`,
    value: ingestRate,
    unit: 'entries/s',
    target: '≥ 5×',
    ratio: ingestRate / peak,
    met: ingestRate / peak >= 5,
  });
}

console.log('\n| measure | value |\n| --- | ---: |');
for (const [measure, value] of figures) console.log(`| ${measure} | ${value} |`);
