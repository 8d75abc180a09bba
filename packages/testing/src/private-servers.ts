import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /** Added to the servers' environment: the `$VARIABLES` the configuration names (passwords). */
  env: Readonly<Record<string, string>> = {},
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
      const logFile = join(dir, 'nats.log');
      const started = spawn(binary, ['-c', configFile, '-l', logFile], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, ...env },
      });
      child = started;
      // A configuration the server refuses is said on stderr, before its log file opens.
      let stderr = '';
      started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const failed = new Promise<never>((_, reject) => {
        started.once('error', (error) => reject(new Error(`cannot start ${binary}: ${error.message}`)));
        started.once('exit', (code) => {
          let log = '';
          try {
            log = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
          } catch {
            // no log yet
          }
          reject(new Error(`${spec.name} exited with ${code}: ${stderr.trim()} ${log}`));
        });
      });
      try {
        await Promise.race([waitForPort(spec.port, 60_000), failed]);
      } finally {
        failed.catch(() => undefined);
      }
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
  // A node that exits at once (its port taken meanwhile by another test's server, say) is tried
  // again twice; the third refusal is the error, with what the server said.
  const start = async (node: PrivateNatsNode): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await node.restart();
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  };
  try {
    await Promise.all(nodes.map(start));
  } catch (error) {
    await Promise.all(nodes.map((node) => node.dispose().catch(() => undefined)));
    throw error;
  }
  return {
    urls: nodes.map((n) => n.url),
    nodes,
    async dispose() {
      await Promise.all(nodes.map((node) => node.dispose()));
    },
  };
}
