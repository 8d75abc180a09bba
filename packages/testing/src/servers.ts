import net from 'node:net';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';

/**
 * Where the shared Postgres and NATS are: the running servers named by DATABASE_URL and
 * NATS_URL (or the localhost defaults); failing that, containers when a Docker engine
 * answers; failing that, one line saying what to start.
 */
export interface SharedServers {
  readonly adminDatabaseUrl: string;
  readonly natsUrl: string;
  readonly source: 'environment' | 'testcontainers';
}

const defaultDatabaseUrl = 'postgres://postgres@localhost:5432/postgres';
const defaultNatsUrl = 'nats://localhost:4222';

let shared: Promise<SharedServers> | undefined;

export function sharedServers(): Promise<SharedServers> {
  shared ??= locate();
  return shared;
}

async function locate(): Promise<SharedServers> {
  const adminDatabaseUrl = process.env['DATABASE_URL'] ?? defaultDatabaseUrl;
  const natsUrl = process.env['NATS_URL'] ?? defaultNatsUrl;
  const [pgUp, natsUp] = await Promise.all([postgresAnswers(adminDatabaseUrl), natsAnswers(natsUrl)]);
  if (pgUp && natsUp) return { adminDatabaseUrl, natsUrl, source: 'environment' };

  if (await dockerAnswers()) return startContainers(pgUp ? adminDatabaseUrl : undefined, natsUp ? natsUrl : undefined);

  const missing = [
    pgUp
      ? undefined
      : `Postgres at ${redactUrl(adminDatabaseUrl)} (pg_ctlcluster --skip-systemctl-redirect 15 main start, or set DATABASE_URL)`,
    natsUp ? undefined : `NATS with JetStream at ${natsUrl} (nats-server -js, or set NATS_URL)`,
  ].filter(Boolean);
  throw new Error(`tests need ${missing.join(' and ')}; no Docker engine answers for testcontainers either`);
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function natsAnswers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 2000, maxReconnectAttempts: 0 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startContainers(pgUrl: string | undefined, natsUrl: string | undefined): Promise<SharedServers> {
  const { GenericContainer, Wait } = await import('testcontainers');
  let adminDatabaseUrl = pgUrl;
  if (!adminDatabaseUrl) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15-alpine')
      .withUsername('postgres')
      .withPassword('postgres')
      .withDatabase('postgres')
      .start();
    adminDatabaseUrl = container.getConnectionUri();
  }
  let resolvedNatsUrl = natsUrl;
  if (!resolvedNatsUrl) {
    const container = await new GenericContainer('nats:2.10-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    resolvedNatsUrl = `nats://${container.getHost()}:${container.getMappedPort(4222)}`;
  }
  return { adminDatabaseUrl, natsUrl: resolvedNatsUrl, source: 'testcontainers' };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}

/**
 * A TCP port nobody listens on right now, below the kernel's ephemeral range (32768–60999 on
 * Linux). A port the kernel hands out for listen(0) comes from that range, and so does the
 * source port of every outgoing connection: a server killed by a fault test could find its port
 * taken by somebody's connection when it restarts (seen: EADDRINUSE on every restart). Each
 * vitest worker takes its own slice of 20000–32767 and walks it from a random start, so
 * concurrent test files do not pick the same port.
 */
export async function sparePort(): Promise<number> {
  const slices = 8;
  const sliceSize = Math.floor((32_768 - 20_000) / slices);
  const worker = Number(process.env['VITEST_POOL_ID'] ?? process.env['VITEST_WORKER_ID'] ?? '0') % slices;
  const base = 20_000 + worker * sliceSize;
  nextOffset ??= Math.floor(Math.random() * sliceSize);
  for (let tries = 0; tries < sliceSize; tries++) {
    const port = base + (nextOffset % sliceSize);
    nextOffset = (nextOffset + 1) % sliceSize;
    if (await portFree(port)) return port;
  }
  throw new Error(`no free port in ${base}–${base + sliceSize - 1}`);
}

let nextOffset: number | undefined;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
