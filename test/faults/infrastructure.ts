// What a fault campaign runs the services on, and the faults it can do to it: one Postgres
// and one NATS server (`pnpm test:chaos`), or the loopback cluster (`pnpm test:cluster`):
// three clustered NATS nodes and a Postgres primary with a streaming standby.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import {
  Topology,
  natsPasswordVariable,
  newNatsPassword,
  renderNatsAuthorization,
  serviceNames,
} from '@passage/events';
import { testTls } from '@passage/platform/testing';
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
  /** Settings a service's instances get besides (stream replicas, NATS user and TLS, say). */
  serviceEnv(service: string): Readonly<Record<string, string>>;
  /** Instances of each service. */
  readonly instances: number;
  /** How the campaign's own checks connect to NATS (its servers, and the operators' user where there are users). */
  readonly natsAdmin: NodeConnectionOptions;
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
    serviceEnv: () => ({}),
    instances: 1,
    natsAdmin: { servers: [nats.url] },
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
async function streamReplicaProblems(admin: NodeConnectionOptions, replicas: number): Promise<string[]> {
  const nc = await connect({ ...admin, timeout: 5_000 });
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
 * Three NATS nodes clustered on loopback, every stream on three of them, over TLS with a user
 * per service (deploy/nats's authorization, generated); a Postgres primary with a streaming
 * standby, TLS only, reached by a multi-host URL that asks for the writable one (verify-full);
 * two instances of every service, each with its own certificate for gRPC and NATS.
 */
export async function loopbackCluster(): Promise<Infrastructure> {
  const ca = testTls('nats').env.GRPC_TLS_CA_FILE;
  const natsTls = testTls('nats').env;
  const postgresTls = testTls('postgres').env;
  const users = [...serviceNames, 'admin'];
  const passwords = Object.fromEntries(users.map((user) => [user, newNatsPassword()]));
  const natsConfig = [
    'tls {',
    `  cert_file: "${natsTls.GRPC_TLS_CERT_FILE}"`,
    `  key_file: "${natsTls.GRPC_TLS_KEY_FILE}"`,
    `  ca_file: "${ca}"`,
    '  verify: true',
    '  timeout: 2',
    '}',
    renderNatsAuthorization(new Topology('')),
  ].join('\n');
  const natsEnv = Object.fromEntries(users.map((user) => [natsPasswordVariable(user), passwords[user]!]));
  let nats: PrivateNatsCluster | undefined;
  let postgres: PrivatePostgresPair | undefined;
  try {
    nats = await startPrivateNatsCluster(3, process.env['NATS_SERVER_BIN'] ?? 'nats-server', natsConfig, natsEnv);
    postgres = await startPrivatePostgresPair({
      tls: { ca, cert: postgresTls.GRPC_TLS_CERT_FILE, key: postgresTls.GRPC_TLS_KEY_FILE },
      requireTls: true,
    });
    await createDatabase(
      `${postgres.primary.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`,
      'passage',
    );
  } catch (error) {
    await nats?.dispose();
    await postgres?.dispose();
    throw error;
  }
  const cluster = nats;
  const pair = postgres;
  let promoted = false;
  const replicas = 3;
  const tlsParams = { sslmode: 'verify-full', sslrootcert: ca };
  const clientTls = (name: string) => {
    const files = testTls(name).env;
    return {
      ca: readFileSync(ca, 'utf8'),
      cert: readFileSync(files.GRPC_TLS_CERT_FILE, 'utf8'),
      key: readFileSync(files.GRPC_TLS_KEY_FILE, 'utf8'),
    };
  };
  const tlsQuery = new URLSearchParams(tlsParams).toString();
  const natsAdmin: NodeConnectionOptions = {
    servers: [...cluster.urls],
    user: 'admin',
    pass: passwords['admin']!,
    tls: clientTls('admin'),
  };
  return {
    databaseUrl: pair.url('passage', tlsParams),
    natsUrl: cluster.urls.join(','),
    serviceEnv: (service) => {
      const files = testTls(service).env;
      return {
        PASSAGE_STREAM_REPLICAS: String(replicas),
        NATS_USER: service,
        NATS_PASSWORD: passwords[service]!,
        NATS_TLS_CA_FILE: ca,
        NATS_TLS_CERT_FILE: files.GRPC_TLS_CERT_FILE,
        NATS_TLS_KEY_FILE: files.GRPC_TLS_KEY_FILE,
      };
    },
    instances: 2,
    natsAdmin,
    primaryUrl: () =>
      `${(promoted ? pair.standby.url : pair.primary.url).replace(/\/postgres$/, '/passage')}?${tlsQuery}`,
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
    redundancyProblems: () => streamReplicaProblems(natsAdmin, replicas),
    async dispose() {
      await cluster.dispose().catch(() => undefined);
      await pair.dispose().catch(() => undefined);
    },
  };
}
