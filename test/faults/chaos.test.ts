import { beforeAll } from 'vitest';
import { itHeldEveryPromise } from './campaign-checks.ts';
import { campaignSeed, formatReport, runCampaign, type CampaignReport } from './campaign.ts';

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

itHeldEveryPromise(() => report, seed, false);
