import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited } from './private-servers.ts';
import { sparePort, waitForPort } from './servers.ts';

/** A nats-server process a test started from a configuration file of its own. */
export interface NatsProcess {
  /** The server's log so far (permission violations and TLS errors show here). */
  log(): string;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Runs `nats-server -c <configFile>` with only `env` (and PATH) in its environment, as a
 * deployment's `$VARIABLES` come from it, logging to a file beside the configuration; ready
 * once `port` accepts connections. A server that exits first fails with its log.
 */
export async function startNatsWithConfig(options: {
  readonly configFile: string;
  readonly port: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Log every protocol line (-DV): what each client sends. */
  readonly trace?: boolean;
  readonly binary?: string;
}): Promise<NatsProcess> {
  const logFile = `${options.configFile}.log`;
  const binary = options.binary ?? process.env['NATS_SERVER_BIN'] ?? 'nats-server';
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const child = spawn(binary, ['-c', options.configFile, '-l', logFile, ...(options.trace ? ['-DV'] : [])], {
    stdio: 'ignore',
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start ${binary}: ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`${binary} exited with ${code}: ${readLog()}`)));
  });
  try {
    await Promise.race([waitForPort(options.port), failed]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  failed.catch(() => undefined);
  // A test process that ends without its teardown (a hook timed out) takes the server with it.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  child.once('exit', () => process.off('exit', orphan));
  return {
    log: readLog,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

export interface SecureNatsOptions {
  /** The server's certificate, its key, and the CA that signed it and the clients' (writeDevCertificates). */
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  /** Whether clients must present a certificate signed by the CA (`verify: true`). */
  readonly verifyClients?: boolean;
  /** A configuration fragment included as is: the generated `authorization { … }` block. */
  readonly authorization?: string;
  /** The server's environment: the users' passwords (`REFERRALS_NATS_PASSWORD` …). */
  readonly env?: Readonly<Record<string, string>>;
  readonly trace?: boolean;
}

export interface SecureNats {
  readonly url: string;
  readonly port: number;
  log(): string;
  dispose(): Promise<void>;
}

/**
 * A nats-server with JetStream on a spare port that requires TLS and, when given, the
 * authorization block the services' users come from: deploy/nats/nats.conf in miniature.
 */
export async function startSecureNats(options: SecureNatsOptions): Promise<SecureNats> {
  const port = await sparePort();
  const dir = mkdtempSync(join(tmpdir(), 'passage-nats-tls-'));
  const lines = [
    `listen: "127.0.0.1:${port}"`,
    `jetstream { store_dir: "${join(dir, 'js')}" }`,
    'tls {',
    `  cert_file: "${options.tls.cert}"`,
    `  key_file: "${options.tls.key}"`,
    `  ca_file: "${options.tls.ca}"`,
    `  verify: ${options.verifyClients === true}`,
    '  timeout: 2',
    '}',
  ];
  if (options.authorization !== undefined) {
    writeFileSync(join(dir, 'authorization.conf'), options.authorization);
    lines.push('include ./authorization.conf');
  }
  const configFile = join(dir, 'nats.conf');
  writeFileSync(configFile, `${lines.join('\n')}\n`);
  let server: NatsProcess;
  try {
    server = await startNatsWithConfig({
      configFile,
      port,
      ...(options.env ? { env: options.env } : {}),
      ...(options.trace ? { trace: true } : {}),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    log: () => server.log(),
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
