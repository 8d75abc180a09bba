import { jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { StreamSpec } from './topology.ts';

const ms = (millis: number): number => millis * 1_000_000;

/** How long JetStream remembers a Nats-Msg-Id; a relay restarting within it republishes nothing twice. */
export const duplicateWindowMs = 2 * 60 * 1000;

/** A stream that cannot be what the configuration asks without losing what it holds, or at all. */
export class StreamConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamConfigError';
  }
}

export interface StreamOptions {
  /** PASSAGE_STREAM_REPLICAS: 1 on a laptop, 3 on a cluster. */
  readonly replicas?: number;
  /** Told what was kept rather than lowered. */
  readonly warn?: (message: string) => void;
}

/**
 * Creates the streams, or brings an existing stream's settings up to date, at start-up, with
 * file storage and the replicas the configuration asks. What would lose data is never done
 * silently: a stream with more replicas or a longer retention than asked keeps them (with a
 * warning), a stream in memory storage is refused, and replicas a server cannot give (a
 * server that is not clustered) are refused naming the setting. Only NATS 2.9 features.
 */
export async function ensureStreams(
  nc: NatsConnection,
  specs: readonly StreamSpec[],
  options: StreamOptions = {},
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const replicas = options.replicas ?? 1;
  for (const spec of specs) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: spec.name,
      subjects: [...spec.subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: ms(spec.maxAgeMs),
      duplicate_window: ms(duplicateWindowMs),
      num_replicas: replicas,
    };
    const existing = (await jsm.streams.info(spec.name).catch(() => undefined))?.config;
    try {
      if (!existing) {
        await jsm.streams.add(config);
        continue;
      }
      if (existing.storage !== StorageType.File) {
        throw new StreamConfigError(
          `stream ${spec.name} is in ${existing.storage} storage: it must be file storage; move its messages to a new stream, then start again`,
        );
      }
      if (existing.num_replicas > replicas) {
        options.warn?.(
          `stream ${spec.name} keeps its ${existing.num_replicas} replicas (PASSAGE_STREAM_REPLICAS=${replicas} would lower them)`,
        );
        config.num_replicas = existing.num_replicas;
      }
      const kept = existing.max_age === 0 || existing.max_age > (config.max_age ?? 0);
      if (kept) {
        options.warn?.(`stream ${spec.name} keeps its longer retention (lowering it would delete messages)`);
        config.max_age = existing.max_age;
      }
      await jsm.streams.update(spec.name, config);
    } catch (error) {
      if (error instanceof StreamConfigError) throw error;
      const text = error instanceof Error ? error.message : String(error);
      if (/replicas > 1 not supported|insufficient resources|no suitable peers/i.test(text)) {
        throw new StreamConfigError(
          `stream ${spec.name} cannot have ${replicas} replicas here (${text}): PASSAGE_STREAM_REPLICAS asks more JetStream servers than the cluster has; set it to the cluster's size, 1 for a single server`,
        );
      }
      throw error;
    }
  }
}
