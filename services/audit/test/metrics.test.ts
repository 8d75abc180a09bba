import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { serviceAccess } from '@passage/events';
import { createLogger, loadConfig, metrics, parsePrometheusText, type Sample } from '@passage/platform';
import { waitFor } from '@passage/testing';
import { observeAuditLog } from '../src/adapters/audit-metrics.ts';
import { PgLogStore } from '../src/adapters/db/log-store.ts';
import { auditConfigSchema } from '../src/config.ts';
import { startAudit, type RunningAudit } from '../src/service.ts';
import { agencyEvent, startAuditLab, waitForEntries, type AuditLab } from './support.ts';

// The audit gauges move with the log: entries as events are taken in, a checkpoint's age and
// size once one is signed, and per stream the events a stream holds that the log does not.
let lab: AuditLab;
let restarted: RunningAudit | undefined;

beforeAll(async () => {
  lab = await startAuditLab('audit-metrics');
});

afterAll(async () => {
  await restarted?.shutdown.run();
  await lab?.stop();
});

const scrape = async (): Promise<Sample[]> => parsePrometheusText(await metrics().scrape());
const gauge = (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;

it('shows entries, the checkpoint, and the ingest lag of a stream the log is behind', async () => {
  const directory = lab.topology.stream('directory').name;
  for (const region of ['toronto', 'ottawa', 'london']) {
    const event = agencyEvent(lab.topology, `metrics-${region}`, region);
    await lab.publish(event.envelope, event.subject);
  }
  await waitForEntries(lab, 3);
  const taken = await waitFor(scrape, (s) => gauge(s, 'passage_audit_checkpoint_tree_size') === 3, 30_000);
  expect(gauge(taken, 'passage_audit_entries')).toBe(3);
  expect(gauge(taken, 'passage_audit_ingest_lag', { stream: directory })).toBe(0);
  expect(gauge(taken, 'passage_audit_checkpoint_age_seconds')).toBeGreaterThanOrEqual(0);
  expect(gauge(taken, 'passage_audit_checkpoint_interval_seconds')).toBe(0.5);

  // The service stopped: what the stream gets now is lag, read by the same gauges.
  await lab.service!.shutdown.run();
  const pool = new pg.Pool({ connectionString: lab.db.url, max: 2 });
  const unobserve = observeAuditLog({
    pool,
    logStore: new PgLogStore(pool),
    nats: lab.nc,
    streams: serviceAccess.audit.ensures.map((area) => lab.topology.stream(area).name),
    checkpointIntervalSeconds: 0.5,
  });
  try {
    for (const region of ['sudbury', 'windsor']) {
      const event = agencyEvent(lab.topology, `metrics-${region}`, region);
      await lab.publish(event.envelope, event.subject);
    }
    const behind = await scrape();
    expect(gauge(behind, 'passage_audit_ingest_lag', { stream: directory })).toBe(2);
    expect(gauge(behind, 'passage_audit_entries')).toBe(3);

    // Started again, it catches up: the lag is gone.
    restarted = await startAudit(loadConfig(auditConfigSchema, lab.env), createLogger('audit-metrics', 'silent'));
    const caughtUp = await waitFor(
      scrape,
      (s) =>
        gauge(s, 'passage_audit_ingest_lag', { stream: directory }) === 0 && gauge(s, 'passage_audit_entries') === 5,
      30_000,
    );
    expect(gauge(caughtUp, 'passage_audit_ingest_lag', { stream: directory })).toBe(0);
  } finally {
    unobserve();
    await pool.end();
  }
}, 120_000);
