import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateNats, startPrivateNatsCluster, waitUntil, type PrivateServer } from '@passage/testing';
import { StreamConfigError, Topology, ensureStreams } from '../src/index.ts';

// Streams as a deployment asks for them (PASSAGE_STREAM_REPLICAS): on a real three-node
// JetStream cluster on loopback, and on a single server that cannot give replicas.
const topology = new Topology('streamstest');
const day = 86_400_000;

describe('on a three-node cluster', () => {
  let cluster: Awaited<ReturnType<typeof startPrivateNatsCluster>>;
  beforeAll(async () => {
    cluster = await startPrivateNatsCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  it('creates every stream with three replicas in file storage, and never lowers replicas or retention', async () => {
    const nc = await connect({ servers: [...cluster.urls] });
    try {
      // The cluster has elected its JetStream leader once the account answers.
      await waitUntil(
        () =>
          jetstreamManager(nc)
            .then(
              (manager) => manager.getAccountInfo().then(() => true),
              () => false,
            )
            .catch(() => false),
        60_000,
      );
      const jsm = await jetstreamManager(nc);
      const specs = topology.allStreams();
      // While the cluster settles a request may time out: the services retry the same way.
      await waitUntil(
        () =>
          ensureStreams(nc, specs, { replicas: 3 }).then(
            () => true,
            () => false,
          ),
        60_000,
      );
      const infos = await Promise.all(specs.map((spec) => jsm.streams.info(spec.name)));
      expect(infos.length).toBeGreaterThan(0);
      for (const info of infos) {
        expect(info.config.num_replicas, info.config.name).toBe(3);
        expect(info.config.storage).toBe(StorageType.File);
        expect(info.cluster?.replicas?.length ?? 0, info.config.name).toBe(2);
      }

      // A laptop setting against a deployed cluster, and a longer retention set by an operator.
      const referrals = topology.stream('referral');
      await jsm.streams.update(referrals.name, { max_age: (referrals.maxAgeMs + 30 * day) * 1_000_000 });
      const warnings: string[] = [];
      await ensureStreams(nc, [referrals], { replicas: 1, warn: (message) => warnings.push(message) });
      const after = await jsm.streams.info(referrals.name);
      expect(after.config.num_replicas).toBe(3);
      expect(after.config.max_age).toBe((referrals.maxAgeMs + 30 * day) * 1_000_000);
      expect(warnings.length).toBe(2);
      expect(warnings.join('\n')).toMatch(/keeps its 3 replicas/);
      expect(warnings.join('\n')).toMatch(/keeps its longer retention/);
    } finally {
      await nc.close();
    }
  }, 120_000);
});

describe('on a single server', () => {
  let nats: PrivateServer;
  beforeAll(async () => {
    nats = await startPrivateNats();
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  it('refuses replicas it cannot give, naming the setting, and creates nothing', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const refused = await ensureStreams(nc, [topology.stream('consent')], { replicas: 3 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(StreamConfigError);
      expect((refused as Error).message).toMatch(/PASSAGE_STREAM_REPLICAS/);
      const jsm = await jetstreamManager(nc);
      expect(await jsm.streams.info(topology.stream('consent').name).catch(() => 'none')).toBe('none');
      // One replica is what a single server gives.
      await ensureStreams(nc, [topology.stream('consent')], { replicas: 1 });
      expect((await jsm.streams.info(topology.stream('consent').name)).config.num_replicas).toBe(1);
    } finally {
      await nc.close();
    }
  });
});
