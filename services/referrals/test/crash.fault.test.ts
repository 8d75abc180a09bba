import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { referrals as pb } from '@passage/contracts';
import { Topology, decodeEnvelope } from '@passage/events';
import { callUnary } from '@passage/platform';
import { runScript, sparePort, waitForServing, type ScriptProcess } from '@passage/testing';
import { grantConsent, referralScope, startNetwork, waitUntil, type Network } from './support.ts';

// The referrals service as its own process, killed with SIGKILL after a Send committed
// and before its event was published: after restart the event goes out exactly once.
const referralsDir = fileURLToPath(new URL('../', import.meta.url));
let n: Network;

beforeAll(async () => {
  n = await startNetwork('crash', { referrals: false });
});

afterAll(async () => {
  await n?.stop();
});

async function startProcess(port: number, relay: 'on' | 'off'): Promise<ScriptProcess> {
  const child = runScript(
    'src/main.ts',
    { ...n.referralsEnv, GRPC_PORT: String(port), OUTBOX_RELAY: relay, LOG_LEVEL: 'warn' },
    { cwd: referralsDir },
  );
  await waitForServing(port, 30_000, n.credentials);
  return child;
}

async function sentEvents(referralId: string): Promise<number> {
  const nc = await connect({ servers: n.nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = new Topology(n.nats.namespace).stream('referral').name;
    const { state } = await jsm.streams.info(stream);
    let count = 0;
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const envelope = decodeEnvelope((await jsm.streams.getMessage(stream, { seq }))!.data);
      if (envelope.referralId === referralId && envelope.type === 'referral.v1.sent') count++;
    }
    return count;
  } finally {
    await nc.close();
  }
}

it('publishes a committed Send exactly once after the service is killed before publishing', async () => {
  const { subjectRef } = await grantConsent(n, 'crisis-counsellor', [
    referralScope({ recipients: ['london-coalition'], categories: ['needs'] }),
  ]);
  const port = await sparePort();
  // The relay is off in this first process, so the crash falls between commit and publish.
  const doomed = await startProcess(port, 'off');
  const client = new pb.ReferralServiceClient(`127.0.0.1:${port}`, n.credentials);
  const { referral } = await callUnary(
    client.send.bind(client),
    {
      idempotencyKey: randomUUID(),
      subjectRef,
      fromAgency: 'ontario-ht-crisis-line',
      toAgency: 'london-coalition',
      priority: pb.Priority.PRIORITY_STANDARD,
      needs: ['counselling'],
      language: 'en',
      interpreterNeeded: false,
      packet: [{ category: 'needs', content: 'Synthetic need', withheld: false }],
    },
    n.as('crisis-counsellor'),
  );
  client.close();
  await doomed.kill('SIGKILL');
  const committed = await n.sql.query('select published_at from referrals.outbox order by seq desc limit 1');
  expect(committed.rows).toEqual([{ published_at: null }]);
  expect(await sentEvents(referral!.id)).toBe(0);

  const restarted = await startProcess(port, 'on');
  try {
    await waitUntil(async () => (await sentEvents(referral!.id)) === 1);
    await waitUntil(
      async () =>
        (await n.sql.query('select count(*)::int as n from referrals.outbox where published_at is null')).rows[0].n ===
        0,
    );
    expect(await sentEvents(referral!.id)).toBe(1);
  } finally {
    await restarted.kill('SIGTERM');
  }
});
