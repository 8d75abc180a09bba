import { afterAll, beforeAll, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { finishedSpans } from '@passage/testing';
import { startNetwork, waitUntil, type Network } from '@passage/referrals/testing';
import type { RunningEscalation } from '../src/service.ts';
import { TestClock, dueAt, sendReferral, startEscalationIn, timerStates } from './support.ts';

// "tracing" project. The workers look for due timers untraced; a batch of timers they claim is
// the root of a trace of its own holding the transaction and the calls it makes
// (docs/adr/0032-tracing.md, 0047).
let n: Network;
let service: RunningEscalation;
const clock = new TestClock();

beforeAll(async () => {
  n = await startNetwork('escalationtrace');
  ({ service } = await startEscalationIn(n, clock));
});

afterAll(async () => {
  await service?.shutdown.run();
  await n?.stop();
});

it('traces a fired batch as a root span holding its transaction and the EscalateMany call, not the look that found it', async () => {
  const { referralId } = await sendReferral(n);
  await waitUntil(async () => (await timerStates(n, referralId))['acknowledge'] === 'pending');
  clock.moveTo(new Date((await dueAt(n, referralId, 'acknowledge')).getTime() + 1_000));
  await waitUntil(async () => (await timerStates(n, referralId))['acknowledge'] === 'fired', 20_000);

  const spans = finishedSpans();
  const fire = spans.find(
    (s) =>
      s.name === 'escalation fire timers' &&
      (s.attributes['passage.referral.ids'] as string[] | undefined)?.includes(referralId),
  );
  expect(fire, spans.map((s) => s.name).join(', ')).toBeDefined();
  expect(fire!.parentSpanContext).toBeUndefined();
  expect(fire!.attributes['passage.timer.count']).toBe(1);
  const inTrace = spans.filter((s) => s.spanContext().traceId === fire!.spanContext().traceId);
  const children = inTrace.filter((s) => s.parentSpanContext?.spanId === fire!.spanContext().spanId);
  expect(children.length).toBeGreaterThan(0);
  const escalate = children.find((s) => s.kind === SpanKind.CLIENT && s.name.endsWith('ReferralService/EscalateMany'));
  expect(escalate, children.map((s) => s.name).join(', ')).toBeDefined();
  const sql = children.map((s) => (s.attributes['db.query.text'] as string | undefined) ?? '');
  expect(sql).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^with fired as \(\s*update escalation\.timers set state = \?/),
      'commit',
    ]),
  );
  // The claim that found it is not in the trace: only what was done once a timer was found.
  expect(sql.some((text) => text.includes('for update skip locked'))).toBe(false);
});
