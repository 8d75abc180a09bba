import { beforeAll, expect, it } from 'vitest';
import { campaignSeed, faultKinds, formatReport, runCampaign, type CampaignReport } from './campaign.ts';

// The short whole-system fault campaign that `pnpm test` runs (CHAOS_REFERRALS, default 30;
// `pnpm test:chaos` runs a longer one): real processes on a Postgres and a NATS of its own,
// every service killed with SIGKILL, NATS killed, Postgres stopped immediately, at random
// while referrals move through every ending; then each promise is checked. The seed is
// printed; CHAOS_SEED replays it.
const referrals = Number(process.env['CHAOS_REFERRALS'] ?? 30);
const seed = campaignSeed();
let report: CampaignReport;

beforeAll(
  async () => {
    console.log(`chaos seed ${seed} (replay: CHAOS_SEED=${seed} CHAOS_REFERRALS=${referrals})`);
    // Two journeys at a time: the short campaign's journeys then span its whole round of faults.
    report = await runCampaign({ referrals, seed, concurrency: Number(process.env['CHAOS_CONCURRENCY'] ?? 2) });
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
  'the network recovered from every fault',
];

it('played every ending and every kind of fault', () => {
  for (const ending of Object.keys(report.endings))
    expect(report.endings[ending as keyof typeof report.endings]).toBeGreaterThan(0);
  expect(new Set(report.faults.map((fault) => fault.kind)).size).toBe(faultKinds.length);
  expect(report.checks.map((check) => check.name)).toEqual(checks);
});

for (const name of checks) {
  it(name, () => {
    const check = report.checks.find((c) => c.name === name);
    expect(check, `seed ${seed}`).toBeDefined();
    expect(check!.ok, `${check!.detail} (seed ${seed})`).toBe(true);
  });
}
