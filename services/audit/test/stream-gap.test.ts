import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { audit } from '@passage/contracts';
import { ensureStreams } from '@passage/events';
import { callUnary, createLogger, loadConfig } from '@passage/platform';
import { failureOf, healthStatus, waitFor, waitUntil } from '@passage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditConfigSchema } from '../src/config.ts';
import { startAudit, type RunningAudit } from '../src/service.ts';
import { agencyEvent, startAuditLab, type AuditLab } from './support.ts';

// The audit consumer never skips: a stream that no longer holds what follows the stored
// position stops being read, health says so, and only an acknowledged gap resumes it.
let lab: AuditLab;
let nc: NatsConnection;
let restarted: RunningAudit | undefined;

beforeAll(async () => {
  lab = await startAuditLab('auditgap', { config: { AUDIT_STREAM_CHECK_SECONDS: '0.2' } });
  nc = await connect({ servers: lab.nats.url });
});

afterAll(async () => {
  await restarted?.shutdown.run();
  await nc?.close();
  await lab?.stop();
});

async function publishAgencies(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const { subject, envelope } = agencyEvent(lab.topology, `gap-agency-${ids.length}-${i}`, 'london');
    await lab.publish(envelope, subject);
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

async function gapEntries(): Promise<{ stream: string; entry: string }[]> {
  const { rows } = await lab.sql.query<{ stream: string; entry: Buffer }>(
    `select stream, entry from audit.entries where action = 'audit.v1.stream_gap' order by seq`,
  );
  return rows.map((row) => ({ stream: row.stream, entry: row.entry.toString() }));
}

function statusOf(address: string, stream: string) {
  const client = new audit.AuditServiceClient(address, lab.credentials);
  return callUnary(client.ingestStatus.bind(client), {}, lab.as('auditor'))
    .then(({ streams }) => {
      expect(streams.length).toBeGreaterThan(0);
      return streams.find((s) => s.stream === stream)!;
    })
    .finally(() => client.close());
}

describe('stream gaps', () => {
  it('reads nothing of a recreated stream that has grown past the stored position, instead of skipping its first events', async () => {
    const directory = lab.topology.stream('directory').name;
    const address = lab.service!.address;
    const before = await publishAgencies(3);
    await waitUntil(async () => (await inLog(before)) === 3, 30_000);

    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(directory);
    await ensureStreams(nc, [lab.topology.stream('directory')]);
    const after = await publishAgencies(6);

    // Either the service stops the stream, or it reads the new events: the latter must not
    // leave the first three of them out.
    await waitUntil(
      async () => (await healthStatus(address, '', lab.credentials)) === 'NOT_SERVING' || (await inLog(after)) > 0,
      30_000,
    );
    expect(await inLog(after)).toBe(0);
    await waitUntil(async () => (await statusOf(address, directory)).gap?.lastSeq === 6, 30_000);
    const stopped = await statusOf(address, directory);
    expect(stopped.state).toBe('stopped');
    expect(stopped.gap).toMatchObject({ lastStoredSeq: 3, firstSeq: 1, lastSeq: 6 });
    expect(['behind', 'replaced']).toContain(stopped.gap!.reason);
    expect(await inLog(after)).toBe(0);

    // An auditor sees the gap but cannot acknowledge it; an administrator can.
    const client = new audit.AuditServiceClient(address, lab.credentials);
    try {
      const refused = await failureOf<{ code: string }>(
        callUnary(
          client.acknowledgeGap.bind(client),
          { stream: directory, lastStoredSeq: 0, firstSeq: 0 },
          lab.as('auditor'),
        ),
      );
      expect(refused.code).toBe('permission_denied');
      const stale = await failureOf<{ code: string }>(
        callUnary(
          client.acknowledgeGap.bind(client),
          { stream: directory, lastStoredSeq: 2, firstSeq: 1 },
          lab.as('admin'),
        ),
      );
      expect(stale.code).toBe('failed_precondition');
      const recorded = await callUnary(
        client.acknowledgeGap.bind(client),
        { stream: directory, lastStoredSeq: 3, firstSeq: 1 },
        lab.as('admin'),
      );
      expect(recorded).toEqual({ seq: 3, resumeAfterSeq: 0 });
    } finally {
      client.close();
    }
    await waitUntil(async () => (await inLog(after)) === 6, 30_000);
    await waitFor(
      () => healthStatus(address, '', lab.credentials),
      (status) => status === 'SERVING',
      30_000,
    );
    const gaps = await gapEntries();
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.stream).toBe(directory);
  });

  it('stops at events removed before the log read them, found when the service starts again', async () => {
    const directory = lab.topology.stream('directory').name;
    const first = await publishAgencies(2);
    await waitUntil(async () => (await inLog(first)) === 2, 30_000);
    await lab.service!.shutdown.run();

    // While the service is down, events arrive and are purged before it reads them.
    const lost = await publishAgencies(4);
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(directory);
    await jsm.streams.purge(directory);
    const config = loadConfig(auditConfigSchema, { ...lab.env, AUDIT_STREAM_CHECK_SECONDS: '0.2' });
    restarted = await startAudit(config, createLogger('auditgap-restart', process.env['LOG_LEVEL'] ?? 'silent'));
    const later = await publishAgencies(2);

    await waitFor(
      () => healthStatus(restarted!.address, '', lab.credentials),
      (status) => status === 'NOT_SERVING',
      30_000,
    );
    const stopped = await statusOf(restarted.address, directory);
    expect(stopped).toMatchObject({
      state: 'stopped',
      gap: { reason: 'lost', lastStoredSeq: state.last_seq - 4, firstSeq: state.last_seq + 1 },
    });
    expect(stopped.detail).toContain(`seq ${state.last_seq - 3} to ${state.last_seq} were removed`);
    expect(await inLog([...lost, ...later])).toBe(0);

    const client = new audit.AuditServiceClient(restarted.address, lab.credentials);
    try {
      const recorded = await callUnary(
        client.acknowledgeGap.bind(client),
        { stream: directory, lastStoredSeq: 0, firstSeq: 0 },
        lab.as('admin'),
      );
      expect(recorded.resumeAfterSeq).toBe(state.last_seq);
    } finally {
      client.close();
    }
    await waitUntil(async () => (await inLog(later)) === 2, 30_000);
    expect(await inLog(lost)).toBe(0);
    const gaps = await gapEntries();
    expect(gaps).toHaveLength(2);
    expect(JSON.parse(gaps[1]!.entry)).toMatchObject({
      event: {
        streamGap: {
          stream: directory,
          reason: 'lost',
          lastStoredSeq: state.last_seq - 4,
          firstSeq: state.last_seq + 1,
          resumeAfterSeq: state.last_seq,
        },
      },
    });
    await waitFor(
      () => healthStatus(restarted!.address, '', lab.credentials),
      (status) => status === 'SERVING',
      30_000,
    );
  });
});
