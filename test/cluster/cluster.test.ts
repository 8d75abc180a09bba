import { beforeAll } from 'vitest';
import { itHeldEveryPromise } from '../faults/campaign-checks.ts';
import { campaignSeed, formatReport, runCampaign, type CampaignReport } from '../faults/campaign.ts';

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

itHeldEveryPromise(() => report, seed, true);
