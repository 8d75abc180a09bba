import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

function exited(child: ChildProcess): Promise<void> {
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
