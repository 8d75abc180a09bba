// `pnpm test:chaos`: the whole-system fault campaign (test/faults/campaign.ts), printed.
// CHAOS_REFERRALS sets its length (default 30), CHAOS_SEED replays one, CHAOS_CONCURRENCY
// how many journeys run at once (default 4), CHAOS_KEEP_LOGS=1 keeps the services' logs.
import { campaignSeed, formatReport, runCampaign } from './campaign.ts';

const report = await runCampaign({
  referrals: Number(process.env['CHAOS_REFERRALS'] ?? 30),
  seed: campaignSeed(),
  concurrency: Number(process.env['CHAOS_CONCURRENCY'] ?? 4),
});
console.log(`\n${formatReport(report)}`);
process.exit(report.checks.every((check) => check.ok) ? 0 : 1);
