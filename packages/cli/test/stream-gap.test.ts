import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { startAuditLab, type AuditLab } from '@passage/audit/testing';
import { events } from '@passage/contracts';
import { createEnvelope, ensureStreams } from '@passage/events';
import { testTls } from '@passage/platform/testing';
import { healthStatus, waitFor, waitUntil } from '@passage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/main.ts';

// A stream lost under a running audit service (deleted and recreated empty, as when a NATS node
// comes back on an empty disk): the log reads nothing of it past the gap until an administrator
// acknowledges the gap, which becomes an entry of the log.
let lab: AuditLab;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  lab = await startAuditLab('cligap', {
    config: {
      AUDIT_ORIGIN: 'passage.test/cligap',
      AUDIT_CHECKPOINT_EVERY: '1000',
      AUDIT_CHECKPOINT_SECONDS: '0.3',
      AUDIT_STREAM_CHECK_SECONDS: '0.2',
    },
  });
  env = {
    DATABASE_URL: lab.db.url,
    AUDIT_ADDRESS: lab.service!.address,
    AUDIT_VERIFIER_KEY: lab.service!.verifierKey,
    PASSAGE_TOKEN: lab.token('admin'),
    // gRPC is mutual TLS (the settings are given); NATS is the shared plaintext server, which only development allows.
    PASSAGE_ENV: 'development',
    ...testTls('cli').env,
  };
});

afterAll(async () => {
  await lab?.stop();
});

/** Synthetic referral events (ids and codes only); returns their event ids. */
async function publishReferrals(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const referralId = randomUUID();
    const envelope = createEnvelope({
      type: 'referral.v1.sent',
      actor: { agency: 'peel-regional-police', user: 'synthetic-user', role: 'officer' },
      referralId,
      subjectRef: randomUUID(),
      fromAgency: 'peel-regional-police',
      toAgency: 'london-coalition',
      priority: 'standard',
      payload: {
        $case: 'referralChanged',
        value: events.ReferralChanged.fromPartial({ referralId, state: 'sent', version: 1, sentAt: new Date() }),
      },
    });
    await lab.publish(envelope, lab.topology.referral('peel-regional-police', 'london-coalition', 'sent'));
    ids.push(envelope.id);
  }
  return ids;
}

async function inLog(ids: readonly string[]): Promise<number> {
  const { rows } = await lab.sql.query<{ n: number }>(
    'select count(*)::int as n from audit.entries where event_id = any($1::uuid[])',
    [ids],
  );
  return rows[0]!.n;
}

async function passage(as: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await run(args, as, (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

interface StatusJson {
  streams: {
    stream: string;
    state: string;
    detail: string;
    gap?: { reason: string; lastStoredSeq: number; firstSeq: number; lastSeq: number };
  }[];
}

async function streamStatus(stream: string) {
  const { out } = await passage(env, 'audit', 'status', '--json');
  const status = JSON.parse(out) as StatusJson;
  expect(status.streams.length).toBeGreaterThan(0);
  return status.streams.find((s) => s.stream === stream)!;
}

describe('a stream recreated empty under the audit service', () => {
  it('stops ingest of that stream, says so, and resumes only after the gap is written into the log', async () => {
    const referrals = lab.topology.stream('referral').name;
    const before = await publishReferrals(5);
    await waitUntil(async () => (await inLog(before)) === 5, 30_000);
    expect(await healthStatus(lab.service!.address, '', lab.credentials)).toBe('SERVING');
    expect((await passage(env, 'audit', 'status')).code).toBe(0);

    const jsm = await jetstreamManager(lab.nc);
    await jsm.streams.delete(referrals);
    await ensureStreams(lab.nc, [lab.topology.stream('referral')]);
    const after = await publishReferrals(3);

    await waitFor(
      () => healthStatus(lab.service!.address, '', lab.credentials),
      (status) => status === 'NOT_SERVING',
      30_000,
    );
    const stopped = await streamStatus(referrals);
    expect(stopped).toMatchObject({
      state: 'stopped',
      gap: { reason: 'behind', lastStoredSeq: 5, firstSeq: 1 },
    });
    expect(stopped.detail).toContain(`the log holds stream ${referrals} up to seq 5`);
    const human = await passage(env, 'audit', 'status');
    expect(human.code).toBe(1);
    expect(human.out).toContain(`passage audit acknowledge-gap --stream ${referrals}`);
    // The other streams read on.
    expect((await streamStatus(lab.topology.stream('directory').name)).state).toBe('reading');

    // The new stream grows past the stored position: still nothing of it is read, nor skipped.
    const more = await publishReferrals(4);
    await waitUntil(async () => (await streamStatus(referrals)).gap?.lastSeq === 7, 30_000);
    expect(await inLog([...after, ...more])).toBe(0);
    expect(await healthStatus(lab.service!.address, '', lab.credentials)).toBe('NOT_SERVING');

    // Only an administrator acknowledges a gap.
    const auditor = { ...env, PASSAGE_TOKEN: lab.token('auditor') };
    await expect(passage(auditor, 'audit', 'acknowledge-gap', '--stream', referrals)).rejects.toThrow(
      'needs the admin role',
    );
    expect(await inLog([...after, ...more])).toBe(0);

    const acknowledged = await passage(env, 'audit', 'acknowledge-gap', '--stream', referrals);
    expect(acknowledged.code).toBe(0);
    expect(acknowledged.out).toContain(`recorded as entry 5 of the audit log; reading ${referrals} again after seq 0`);
    await waitUntil(async () => (await inLog([...after, ...more])) === 7, 30_000);
    await waitFor(
      () => healthStatus(lab.service!.address, '', lab.credentials),
      (status) => status === 'SERVING',
      30_000,
    );
    expect((await streamStatus(referrals)).state).toBe('reading');

    // The gap entry: typed, in the log before the events read after it.
    const { rows: gaps } = await lab.sql.query<{ seq: string; entry: Buffer; stream: string; actor_user: string }>(
      `select seq, entry, stream, actor_user from audit.entries where action = 'audit.v1.stream_gap'`,
    );
    expect(gaps).toHaveLength(1);
    const gap = gaps[0]!;
    expect({ seq: gap.seq, stream: gap.stream, actor: gap.actor_user }).toEqual({
      seq: '5',
      stream: referrals,
      actor: 'admin',
    });
    const entry = JSON.parse(gap.entry.toString()) as {
      subject: string;
      event: { type: string; actor: { user: string; role: string }; streamGap: Record<string, unknown> };
    };
    expect(entry.subject).toBe('audit.v1.stream_gap');
    expect(entry.event.actor).toMatchObject({ user: 'admin', role: 'admin' });
    expect(entry.event.streamGap).toEqual({
      stream: referrals,
      reason: 'behind',
      lastStoredSeq: 5,
      firstSeq: 1,
      lastSeq: 7,
      resumeAfterSeq: 0,
    });
    const { rows: resumed } = await lab.sql.query<{ lo: string; n: number }>(
      'select min(seq) as lo, count(*)::int as n from audit.entries where event_id = any($1::uuid[])',
      [[...after, ...more]],
    );
    expect(resumed[0]).toEqual({ lo: '6', n: 7 });

    // Nothing was skipped or doubled, and the log with its gap entry verifies.
    const total = 5 + 1 + 7;
    await waitUntil(async () => {
      const { rows } = await lab.sql.query<{ n: string | null }>('select max(tree_size) as n from audit.checkpoints');
      return Number(rows[0]?.n ?? 0) === total;
    }, 30_000);
    const verified = await passage(env, 'audit', 'verify', '--require-signed');
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(new RegExp(`^OK: ${total} entries`));
  });
});
