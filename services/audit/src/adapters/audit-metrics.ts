import type pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { metrics } from '@passage/platform';
import type { LogStore } from '../app/ports.ts';

export interface AuditMetricsSources {
  readonly pool: pg.Pool;
  readonly logStore: Pick<LogStore, 'positions' | 'size'>;
  readonly nats: NatsConnection;
  /** The streams the log ingests. */
  readonly streams: readonly string[];
  /** AUDIT_CHECKPOINT_SECONDS: what the checkpoint age is compared with. */
  readonly checkpointIntervalSeconds: number;
}

/**
 * The audit log's gauges, read when metrics are collected (docs/adr/0031-metrics-and-alerts.md):
 * per stream, what the stream holds beyond the log's position (ingest lag); the log's size;
 * the latest checkpoint's size, age and the interval it is signed at. Returns what removes them.
 */
export function observeAuditLog(sources: AuditMetricsSources): () => void {
  const { pool, logStore, nats, streams } = sources;
  return metrics().observe(
    ['auditIngestLag', 'auditEntries', 'auditCheckpointAge', 'auditCheckpointSize', 'auditCheckpointInterval'],
    async (observe) => {
      const jsm = await jetstreamManager(nats);
      const [positions, size, heads, checkpoint] = await Promise.all([
        logStore.positions(streams),
        logStore.size(),
        Promise.all(streams.map(async (stream) => [stream, (await jsm.streams.info(stream)).state.last_seq] as const)),
        pool.query<{ tree_size: string; age: number }>(
          `select tree_size, extract(epoch from now() - signed_at)::float8 as age
             from audit.checkpoints order by tree_size desc limit 1`,
        ),
      ]);
      for (const [stream, lastSeq] of heads)
        observe('auditIngestLag', Math.max(0, lastSeq - (positions.get(stream) ?? 0)), { stream });
      observe('auditEntries', size);
      observe('auditCheckpointInterval', sources.checkpointIntervalSeconds);
      const latest = checkpoint.rows[0];
      observe('auditCheckpointSize', latest ? Number(latest.tree_size) : 0);
      if (latest) observe('auditCheckpointAge', Math.max(0, latest.age));
    },
  );
}
