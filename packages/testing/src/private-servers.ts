import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sparePort, waitForPort } from './servers.ts';

/** A server process a fault test owns: it may kill, restart or partition it. */
export interface PrivateServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: no goodbye, as a crashed machine. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/** Resolves once the child process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A nats-server with JetStream on a spare port, with its own storage directory. */
export async function startPrivateNats(
  binary = process.env['NATS_SERVER_BIN'] ?? 'nats-server',
): Promise<PrivateServer> {
  const port = await sparePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'passage-nats-'));
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (error) => reject(new Error(`cannot start ${binary}: ${error.message}`))),
    );
    await Promise.race([waitForPort(port), failed]);
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    restart: launch,
    async dispose() {
      child.kill('SIGTERM');
      await exited(child);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** One node of a private NATS cluster: killed, restarted, or restarted with an empty disk. */
export interface PrivateNatsNode extends PrivateServer {
  readonly name: string;
  /** Starts it again on the same ports with its store directory emptied: a replaced disk. */
  restartEmpty(): Promise<void>;
}

export interface PrivateNatsCluster {
  readonly urls: readonly string[];
  readonly nodes: readonly PrivateNatsNode[];
  dispose(): Promise<void>;
}

/**
 * Three (or `size`) nats-server processes clustered on loopback, JetStream on each. `config`
 * gives extra configuration text for every node (TLS, authorization), written to a file each
 * node includes; its `{{name}}` is replaced by the node's name.
 */
export async function startPrivateNatsCluster(
  size = 3,
  binary = process.env['NATS_SERVER_BIN'] ?? 'nats-server',
  config = '',
): Promise<PrivateNatsCluster> {
  const specs = [];
  for (let i = 0; i < size; i++)
    specs.push({ name: `passage-${i}`, port: await sparePort(), cluster: await sparePort() });
  const routes = specs.map((n) => `nats://127.0.0.1:${n.cluster}`);
  const nodes = specs.map((spec): PrivateNatsNode => {
    const dir = mkdtempSync(join(tmpdir(), 'passage-nats-cluster-'));
    const storeDir = join(dir, 'store');
    const configFile = join(dir, 'nats.conf');
    writeFileSync(
      configFile,
      [
        `server_name: ${spec.name}`,
        `listen: 127.0.0.1:${spec.port}`,
        `jetstream { store_dir: "${storeDir}" }`,
        `cluster { name: passage, listen: 127.0.0.1:${spec.cluster}, routes: [${routes.join(', ')}] }`,
        config.replaceAll('{{name}}', spec.name),
        '',
      ].join('\n'),
    );
    let child: ChildProcess | undefined;
    const launch = async (): Promise<void> => {
      const started = spawn(binary, ['-c', configFile], { stdio: 'ignore' });
      child = started;
      const failed = new Promise<never>((_, reject) =>
        started.once('error', (error) => reject(new Error(`cannot start ${binary}: ${error.message}`))),
      );
      await Promise.race([waitForPort(spec.port), failed]);
    };
    const stop = async (signal: NodeJS.Signals): Promise<void> => {
      if (!child) return;
      child.kill(signal);
      await exited(child);
    };
    return {
      name: spec.name,
      url: `nats://127.0.0.1:${spec.port}`,
      port: spec.port,
      kill: () => stop('SIGKILL'),
      restart: launch,
      async restartEmpty() {
        rmSync(storeDir, { recursive: true, force: true });
        await launch();
      },
      async dispose() {
        await stop('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
  await Promise.all(nodes.map((node) => node.restart()));
  return {
    urls: nodes.map((n) => n.url),
    nodes,
    async dispose() {
      await Promise.all(nodes.map((node) => node.dispose()));
    },
  };
}

const pgBinDir = process.env['PG_BIN_DIR'] ?? '/usr/lib/postgresql/15/bin';

/** Postgres refuses to run as root: as root, its commands run as the `postgres` user. */
function asPostgresOwner(command: string, args: readonly string[]): [string, string[]] {
  const path = join(pgBinDir, command);
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, [...args]];
}

function runAsPostgresOwner(command: string, args: readonly string[]): void {
  const result = spawnSync(...asPostgresOwner(command, args), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.error?.message}`);
}

/** A folder the `postgres` user may use, for a data directory, its socket and its log. */
function postgresFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}

/** One Postgres server over a data directory that exists: started, killed, restarted, removed. */
function postgresServer(dir: string, port: number, settings: readonly string[]): PrivateServer {
  const dataDir = join(dir, 'data');
  const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', ...settings];
  const start = async (): Promise<void> => {
    runAsPostgresOwner('pg_ctl', ['-D', dataDir, '-l', join(dir, 'log'), '-w', '-o', options.join(' '), 'start']);
    await waitForPort(port);
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    kill() {
      runAsPostgresOwner('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
      return Promise.resolve();
    },
    restart: start,
    dispose() {
      spawnSync(...asPostgresOwner('pg_ctl', ['-D', dataDir, '-m', 'fast', 'stop']));
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

export interface PrivatePostgresOptions {
  /** Extra `-c name=value` server settings (ssl, say), for every server. */
  readonly settings?: readonly string[];
}

/**
 * A PostgreSQL cluster of its own on a spare port (initdb + pg_ctl). Postgres refuses to
 * run as root, so as root it runs as the `postgres` user.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivateServer> {
  const port = await sparePort();
  const dir = postgresFolder('passage-pg-');
  runAsPostgresOwner('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const server = postgresServer(dir, port, options.settings ?? []);
  await server.restart();
  return server;
}

export interface PrivatePostgresPair {
  readonly primary: PrivateServer;
  /** A hot standby streaming from the primary (`pg_basebackup -R`). */
  readonly standby: PrivateServer;
  /** `postgres://…@primary,standby/postgres?target_session_attrs=read-write` for a database name. */
  multiHostUrl(database: string): string;
  /** Makes the standby the primary (`pg_ctl promote`), as a failover does. */
  promote(): Promise<void>;
  dispose(): Promise<void>;
}

/** A Postgres primary and a streaming standby on spare ports, as a failover test needs. */
export async function startPrivatePostgresPair(options: PrivatePostgresOptions = {}): Promise<PrivatePostgresPair> {
  const settings = [...(options.settings ?? []), '-c wal_level=replica', '-c hot_standby=on'];
  const primary = await startPrivatePostgres({ settings });
  const port = await sparePort();
  const dir = postgresFolder('passage-pg-standby-');
  runAsPostgresOwner('pg_basebackup', [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    join(dir, 'data'),
    '-R',
    '-X',
    'stream',
    '--no-sync',
  ]);
  const standby = postgresServer(dir, port, settings);
  await standby.restart();
  return {
    primary,
    standby,
    multiHostUrl: (database) =>
      `postgres://postgres@127.0.0.1:${primary.port},127.0.0.1:${port}/${database}?target_session_attrs=read-write`,
    promote() {
      runAsPostgresOwner('pg_ctl', ['-D', join(dir, 'data'), '-w', 'promote']);
      return Promise.resolve();
    },
    async dispose() {
      await standby.dispose();
      await primary.dispose();
    },
  };
}
