import { expect, it } from 'vitest';
import { clusterFaultKinds, faultKinds, type CampaignReport } from './campaign.ts';

/** What every campaign checks, in its order; the loopback cluster adds the streams' replicas. */
export function campaignChecks(cluster: boolean): string[] {
  return [
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
    ...(cluster ? ['every stream on three current replicas'] : []),
    'the network recovered from every fault',
  ];
}

/**
 * One test that the campaign played every ending and every kind of fault and made every
 * check, then one test per check, each failing with its detail and the seed to replay.
 */
export function itHeldEveryPromise(report: () => CampaignReport, seed: number, cluster: boolean): void {
  const checks = campaignChecks(cluster);
  it(`played every ending and every kind of fault${cluster ? ' of the cluster' : ''}`, () => {
    const { endings, faults } = report();
    for (const ending of Object.keys(endings)) expect(endings[ending as keyof typeof endings]).toBeGreaterThan(0);
    expect([...new Set(faults.map((fault) => fault.kind))].sort()).toEqual(
      [...(cluster ? clusterFaultKinds : faultKinds)].sort(),
    );
    expect(report().checks.map((check) => check.name)).toEqual(checks);
  });
  for (const name of checks) {
    it(name, () => {
      const check = report().checks.find((c) => c.name === name);
      expect(check, `seed ${seed}`).toBeDefined();
      expect(check!.ok, `${check!.detail} (seed ${seed})`).toBe(true);
    });
  }
}
