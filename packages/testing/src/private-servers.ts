import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
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

/** Three (or `size`) nats-server processes clustered on loopback, JetStream on each. */
export async function startPrivateNatsCluster(
  size = 3,
  binary = process.env['NATS_SERVER_BIN'] ?? 'nats-server',
): Promise<{ readonly urls: readonly string[]; dispose(): Promise<void> }> {
  const nodes = [];
  for (let i = 0; i < size; i++) nodes.push({ port: await sparePort(), cluster: await sparePort() });
  const routes = nodes.map((n) => `nats://127.0.0.1:${n.cluster}`).join(',');
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  for (const [i, node] of nodes.entries()) {
    const storeDir = mkdtempSync(join(tmpdir(), 'passage-nats-cluster-'));
    dirs.push(storeDir);
    const child = spawn(
      binary,
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(node.port),
        '-js',
        '-sd',
        storeDir,
        '--server_name',
        `passage-${i}`,
        '--cluster_name',
        'passage',
        '--cluster',
        `nats://127.0.0.1:${node.cluster}`,
        '--routes',
        routes,
      ],
      { stdio: 'ignore' },
    );
    children.push(child);
  }
  await Promise.all(nodes.map((n) => waitForPort(n.port)));
  return {
    urls: nodes.map((n) => `nats://127.0.0.1:${n.port}`),
    async dispose() {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map(exited));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pgBinDir = process.env['PG_BIN_DIR'] ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of its own on a spare port (initdb + pg_ctl). Postgres refuses to
 * run as root, so as root it runs as the `postgres` user.
 */
export async function startPrivatePostgres(): Promise<PrivateServer> {
  const port = await sparePort();
  const dir = mkdtempSync(join(tmpdir(), 'passage-pg-'));
  chmodSync(dir, 0o777);
  const dataDir = join(dir, 'data');
  const asOwner = (command: string, args: string[]): [string, string[]] =>
    process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const run = (command: string, args: string[]): void => {
    const [cmd, argv] = asOwner(command, args);
    const result = spawnSync(cmd, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.error?.message}`);
  };
  run(join(pgBinDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const start = async (): Promise<void> => {
    run(join(pgBinDir, 'pg_ctl'), [
      '-D',
      dataDir,
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
    await waitForPort(port);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    kill() {
      run(join(pgBinDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']);
      return Promise.resolve();
    },
    restart: start,
    dispose() {
      spawnSync(...asOwner(join(pgBinDir, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', 'stop']));
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
