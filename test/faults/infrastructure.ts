// What a fault campaign runs the services on, and the faults it can do to it: one Postgres
// and one NATS server (`pnpm test:chaos`), or the loopback cluster (`pnpm test:cluster`):
// three clustered NATS nodes and a Postgres primary with a streaming standby.
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Topology } from '@passage/events';
import {
  startPrivateNats,
  startPrivateNatsCluster,
  startPrivatePostgres,
  startPrivatePostgresPair,
  type PrivateNatsCluster,
  type PrivatePostgresPair,
  type PrivateServer,
} from '@passage/testing';

/** A fault done to the servers: `inject` takes something away, `restore` brings the network back to full strength. */
export interface ServerFault {
  inject(): Promise<void>;
  restore(): Promise<void>;
  /** What was done, for the report. */
  readonly detail: () => string;
}

export interface Infrastructure {
  /** Given to every service instance. */
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** Settings every service instance gets besides (stream replicas, say). */
  readonly serviceEnv: Readonly<Record<string, string>>;
  /** Instances of each service. */
  readonly instances: number;
  /** The NATS servers, for the campaign's own checks. */
  readonly natsServers: readonly string[];
  /** The writable Postgres now, for the campaign's own queries and `passage audit verify`. */
  primaryUrl(): string;
  /** The server faults it offers, by name. */
  readonly faults: Readonly<Record<string, (random: () => number) => ServerFault>>;
  /** Problems with the event history's redundancy (a stream short of its replicas); empty when none. */
  redundancyProblems(): Promise<string[]>;
  dispose(): Promise<void>;
}

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** One Postgres, one NATS: a kill and restart of either. */
export async function singleNode(): Promise<Infrastructure> {
  const postgres: PrivateServer = await startPrivatePostgres();
  let nats: PrivateServer | undefined;
  try {
    nats = await startPrivateNats(process.env['NATS_SERVER_BIN'] ?? 'nats-server');
    await createDatabase(postgres.url, 'passage');
  } catch (error) {
    await nats?.dispose();
    await postgres.dispose();
    throw error;
  }
  const databaseUrl = postgres.url.replace(/\/postgres$/, '/passage');
  const killAndRestart = (server: PrivateServer, name: string) => (): ServerFault => ({
    inject: () => server.kill(),
    restore: () => server.restart(),
    detail: () => `${name} killed, restarted with its data`,
  });
  return {
    databaseUrl,
    natsUrl: nats.url,
    serviceEnv: {},
    instances: 1,
    natsServers: [nats.url],
    primaryUrl: () => databaseUrl,
    faults: { nats: killAndRestart(nats, 'NATS'), postgres: killAndRestart(postgres, 'Postgres') },
    redundancyProblems: () => Promise.resolve([]),
    async dispose() {
      await nats.dispose().catch(() => undefined);
      await postgres.dispose().catch(() => undefined);
    },
  };
}

/** Every stream's replicas, as the cluster reports them: short or lagging ones are problems. */
async function streamReplicaProblems(servers: readonly string[], replicas: number): Promise<string[]> {
  const nc = await connect({ servers: [...servers], timeout: 5_000 });
  try {
    const jsm = await jetstreamManager(nc);
    const problems: string[] = [];
    const topology = new Topology('');
    for (const { name } of topology.allStreams()) {
      const info = await jsm.streams.info(name).catch(() => undefined);
      if (!info) {
        problems.push(`stream ${name} is missing`);
        continue;
      }
      if (info.config.num_replicas < replicas) problems.push(`${name} has ${info.config.num_replicas} replicas`);
      const peers = info.cluster?.replicas ?? [];
      if (!info.cluster?.leader) problems.push(`${name} has no leader`);
      if (peers.length < replicas - 1) problems.push(`${name} has ${peers.length + 1} of ${replicas} peers`);
      for (const peer of peers) if (!peer.current) problems.push(`${name}'s replica on ${peer.name} is behind`);
    }
    return problems;
  } finally {
    await nc.close();
  }
}

/**
 * Three NATS nodes clustered on loopback, every stream on three of them; a Postgres primary
 * with a streaming standby, reached by a multi-host URL that asks for the writable one; two
 * instances of every service.
 */
export async function loopbackCluster(): Promise<Infrastructure> {
  let nats: PrivateNatsCluster | undefined;
  let postgres: PrivatePostgresPair | undefined;
  try {
    nats = await startPrivateNatsCluster(3);
    postgres = await startPrivatePostgresPair();
    await createDatabase(postgres.primary.url, 'passage');
  } catch (error) {
    await nats?.dispose();
    await postgres?.dispose();
    throw error;
  }
  const cluster = nats;
  const pair = postgres;
  let promoted = false;
  const replicas = 3;
  return {
    databaseUrl: pair.url('passage'),
    natsUrl: cluster.urls.join(','),
    serviceEnv: { PASSAGE_STREAM_REPLICAS: String(replicas) },
    instances: 2,
    natsServers: cluster.urls,
    primaryUrl: () => (promoted ? pair.standby.url : pair.primary.url).replace(/\/postgres$/, '/passage'),
    faults: {
      // A machine lost with its disk: kill -9, then a node with the same name and an empty store.
      'nats-node': (random) => {
        const node = pick(random, cluster.nodes);
        return {
          inject: () => node.kill(),
          restore: () => node.restartEmpty(),
          detail: () => `${node.name} killed, restarted with an empty disk`,
        };
      },
      // The primary's machine lost: the standby is promoted, and stays the primary.
      'postgres-failover': () => ({
        inject: () => pair.primary.kill(),
        async restore() {
          await pair.standby.promote();
          promoted = true;
        },
        detail: () => 'primary stopped, standby promoted',
      }),
    },
    redundancyProblems: () => streamReplicaProblems(cluster.urls, replicas),
    async dispose() {
      await cluster.dispose().catch(() => undefined);
      await pair.dispose().catch(() => undefined);
    },
  };
}
