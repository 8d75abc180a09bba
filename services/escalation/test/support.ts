import { randomUUID } from 'node:crypto';
import { escalation, referrals } from '@passage/contracts';
import { callUnary, createLogger, loadConfig } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import { grantConsent, referralScope, type Network } from '@passage/referrals/testing';
import { escalationConfigSchema } from '../src/config.ts';
import { startEscalation, type RunningEscalation } from '../src/service.ts';

export function escalationEnv(n: Network): Record<string, string> {
  return {
    // Development, as the referrals service's: NATS is the shared plaintext server; gRPC is mutual TLS.
    ...n.referralsEnv,
    ...testTls('escalation').env,
    REFERRALS_ADDRESS: n.referralService!.address,
    SERVICE_TOKEN_KEY: n.serviceTokenKey,
    ESCALATION_POLL_MS: '100',
  };
}

/** The escalation service's clock in a test: the wall clock until the test moves it to an instant. */
export class TestClock {
  #at: Date | undefined;
  readonly now = (): Date => new Date(this.#at ?? Date.now());
  moveTo(at: Date): void {
    this.#at = at;
  }
  reset(): void {
    this.#at = undefined;
  }
}

export async function startEscalationIn(
  n: Network,
  clock = new TestClock(),
): Promise<{
  service: RunningEscalation;
  client: escalation.EscalationServiceClient;
}> {
  const service = await startEscalation(
    loadConfig(escalationConfigSchema, escalationEnv(n)),
    createLogger('escalation-test', process.env['LOG_LEVEL'] ?? 'silent'),
    clock.now,
  );
  return { service, client: new escalation.EscalationServiceClient(service.address, n.credentials) };
}

/** A referral from Peel police to the London coalition, under consent for the given recipients. */
export async function sendReferral(
  n: Network,
  recipients: readonly string[] = ['london-coalition'],
): Promise<{ referralId: string; subjectRef: string }> {
  const { subjectRef } = await grantConsent(n, 'peel-officer', [referralScope({ recipients, categories: ['needs'] })]);
  const { referral } = await callUnary(
    n.referrals!.send.bind(n.referrals!),
    {
      idempotencyKey: randomUUID(),
      subjectRef,
      fromAgency: 'peel-regional-police',
      toAgency: 'london-coalition',
      priority: referrals.Priority.PRIORITY_URGENT,
      needs: ['counselling'],
      language: 'en',
      interpreterNeeded: false,
      packet: [{ category: 'needs', content: 'Synthetic: counselling this week', withheld: false }],
    },
    n.as('peel-officer'),
  );
  return { referralId: referral!.id, subjectRef };
}

export async function timerStates(n: Network, referralId: string): Promise<Record<string, string>> {
  const { rows } = await n.sql.query<{ target: string; state: string }>(
    'select target, state from escalation.timers where referral_id = $1',
    [referralId],
  );
  return Object.fromEntries(rows.map((row) => [row.target, row.state]));
}

/** When a referral's timer falls due. */
export async function dueAt(n: Network, referralId: string, target: string): Promise<Date> {
  const { rows } = await n.sql.query<{ due_at: Date }>(
    'select due_at from escalation.timers where referral_id = $1 and target = $2',
    [referralId, target],
  );
  if (!rows[0]) throw new Error(`referral ${referralId} has no ${target} timer`);
  return rows[0].due_at;
}

/**
 * The "test target" for services run as processes of their own, whose clock a test cannot
 * move: the timer falls due `seconds` from now instead of at the agency's real target.
 */
export async function dueIn(n: Network, referralId: string, target: string, seconds: number): Promise<void> {
  await n.sql.query(
    `update escalation.timers set due_at = now() + $3 * interval '1 second' where referral_id = $1 and target = $2`,
    [referralId, target, seconds],
  );
}

export async function escalatedEvents(n: Network, referralId: string): Promise<number> {
  const { rows } = await n.sql.query<{ n: number }>(
    `select count(*)::int as n from referrals.transitions where referral_id = $1 and event = 'escalated'`,
    [referralId],
  );
  return rows[0]!.n;
}
