import { beforeAll, expect, it } from 'vitest';
import { campaignSeed, clusterFaultKinds, formatReport, runCampaign, type CampaignReport } from '../faults/campaign.ts';

// `pnpm test:cluster` (and part of `pnpm test`): the loopback cluster — three NATS nodes
// clustered with every stream on three replicas, a Postgres primary with a streaming standby
// reached by a multi-host URL, two instances of every service — while referrals move through
// every ending: one NATS node killed with -9 and restarted with an empty disk, one instance of
// every service killed, the Postgres primary stopped and the standby promoted. Then each
// promise is checked, and the figures printed (docs/operations.md keeps the last ones).
const referrals = Number(process.env['CLUSTER_REFERRALS'] ?? 20);
const seed = campaignSeed();
let report: CampaignReport;

beforeAll(
  async () => {
    console.log(`cluster seed ${seed} (replay: CHAOS_SEED=${seed} CLUSTER_REFERRALS=${referrals} pnpm test:cluster)`);
    report = await runCampaign({
      referrals,
      seed,
      cluster: true,
      concurrency: Number(process.env['CHAOS_CONCURRENCY'] ?? 2),
    });
    console.log(formatReport(report));
  },
  600_000 + referrals * 20_000,
);

const checks = [
  'every journey completed',
  'no process exited on its own',
  'the network settled',
  'every acknowledged write is there in its last acknowledged state',
  'no duplicate referral, consent or transition',
  'each event once in JetStream and once in the audit log',
  'outboxes drained, nothing parked',
  'passage audit verify says OK',
  'no pending timer on a finished referral, no double escalation',
  'no read returned a revoked category',
  'every stream on three current replicas',
  'the network recovered from every fault',
];

it('played every ending and every fault of the cluster', () => {
  for (const ending of Object.keys(report.endings))
    expect(report.endings[ending as keyof typeof report.endings]).toBeGreaterThan(0);
  expect(report.faults.map((fault) => fault.kind).sort()).toEqual([...clusterFaultKinds].sort());
  expect(report.checks.map((check) => check.name)).toEqual(checks);
});

for (const name of checks) {
  it(name, () => {
    const check = report.checks.find((c) => c.name === name);
    expect(check, `seed ${seed}`).toBeDefined();
    expect(check!.ok, `${check!.detail} (seed ${seed})`).toBe(true);
  });
}
