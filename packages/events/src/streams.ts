import { jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { StreamSpec } from './topology.ts';

const ms = (millis: number): number => millis * 1_000_000;

/** How long JetStream remembers a Nats-Msg-Id; a relay restarting within it republishes nothing twice. */
export const duplicateWindowMs = 2 * 60 * 1000;

/**
 * Creates the streams, or brings an existing stream's settings up to date, at start-up.
 * Only NATS 2.9 features: one subject filter per consumer, no per-message TTL.
 */
export async function ensureStreams(nc: NatsConnection, specs: readonly StreamSpec[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const spec of specs) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: spec.name,
      subjects: [...spec.subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: ms(spec.maxAgeMs),
      duplicate_window: ms(duplicateWindowMs),
      num_replicas: 1,
    };
    const existing = await jsm.streams.info(spec.name).catch(() => undefined);
    if (existing) await jsm.streams.update(spec.name, config);
    else await jsm.streams.add(config);
  }
}
