import { afterAll, beforeAll, expect, it } from 'vitest';
import { metrics, parsePrometheusText, type Sample } from '@passage/platform';
import { startNetwork, waitUntil, type Network } from '@passage/referrals/testing';
import { waitFor } from '@passage/testing';
import type { RunningEscalation } from '../src/service.ts';
import { TestClock, dueAt, sendReferral, startEscalationIn, timerStates } from './support.ts';

// The escalation gauges move with the timers: pending once scheduled, due once the service's
// clock passes them and nothing can fire them; and a fired timer records how late it fired.
let n: Network;
let service: RunningEscalation;
const clock = new TestClock();

beforeAll(async () => {
  n = await startNetwork('escalation-metrics');
  ({ service } = await startEscalationIn(n, clock));
});

afterAll(async () => {
  await service?.shutdown.run();
  await n?.stop();
});

const scrape = async (): Promise<Sample[]> => parsePrometheusText(await metrics().scrape());
const sample = (samples: Sample[], name: string): number | undefined =>
  samples.find((s) => s.name === name && Object.keys(s.labels).length === 0)?.value;

it('counts timers pending and due, and how late each fired', async () => {
  const first = await sendReferral(n);
  await waitUntil(async () => Object.keys(await timerStates(n, first.referralId)).length === 2);
  const scheduled = await scrape();
  expect(sample(scheduled, 'passage_escalation_timers_pending')).toBe(2);
  expect(sample(scheduled, 'passage_escalation_timers_due')).toBe(0);
  expect(sample(scheduled, 'passage_escalation_firing_lateness_seconds_count') ?? 0).toBe(0);

  // Due, and fired three seconds late by the service's clock.
  clock.moveTo(new Date((await dueAt(n, first.referralId, 'acknowledge')).getTime() + 3_000));
  await waitUntil(async () => (await timerStates(n, first.referralId))['acknowledge'] === 'fired', 15_000);
  const fired = await scrape();
  expect(sample(fired, 'passage_escalation_firing_lateness_seconds_count')).toBe(1);
  expect(sample(fired, 'passage_escalation_firing_lateness_seconds_sum')).toBeGreaterThanOrEqual(3);
  expect(sample(fired, 'passage_escalation_timers_pending')).toBe(1);

  // With referrals gone, a due timer cannot fire: it stays due, and the gauge says so. The clock
  // back on the wall first, so the second referral's timers are not due the moment they exist.
  clock.reset();
  const second = await sendReferral(n);
  await waitUntil(async () => Object.keys(await timerStates(n, second.referralId)).length === 2);
  await n.referralService!.shutdown.run();
  clock.moveTo(new Date((await dueAt(n, second.referralId, 'acknowledge')).getTime() + 1_000));
  const stuck = await waitFor(scrape, (samples) => (sample(samples, 'passage_escalation_timers_due') ?? 0) >= 1);
  expect(sample(stuck, 'passage_escalation_timers_pending')).toBe(3);
  expect((await timerStates(n, second.referralId))['acknowledge']).toBe('pending');
}, 120_000);
