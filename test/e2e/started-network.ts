import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ontarioAgencies } from '@passage/directory/seed';
import type { ClientCredentials } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import {
  createTestDatabase,
  createTestNats,
  runScript,
  sparePort,
  waitForPort,
  waitForServing,
  waitUntil,
  type ScriptProcess,
  type TestDatabase,
  type TestNats,
} from '@passage/testing';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface StartedNetwork {
  readonly db: TestDatabase;
  readonly nats: TestNats;
  readonly ports: Readonly<Record<'directory' | 'consent' | 'referrals' | 'audit' | 'escalation' | 'gateway', number>>;
  readonly process: ScriptProcess;
  readonly gatewayUrl: string;
  /** A test client's credentials: the services speak mutual TLS, as pnpm start runs them. */
  readonly credentials: ClientCredentials;
  stop(): Promise<void>;
}

/** Every network this file started and has not stopped yet, ready or still starting. */
const running = new Set<() => Promise<void>>();

/**
 * Stops every network this file started, including one still starting: a beforeAll that ran
 * out of time never received it, and scripts/start.ts and its six services would otherwise
 * outlive the test file, holding their database connections (afterAll calls this).
 */
export async function stopStartedNetworks(): Promise<void> {
  for (const stop of [...running]) await stop();
}

/**
 * The network exactly as `pnpm start` runs it (scripts/start.ts: every service its own
 * process, development keys, mutual TLS), on spare ports, a database and a NATS namespace of
 * the caller's own, with the certificates of the test process (PASSAGE_CERTS_DIR) rather than
 * the repository's .passage/certs; ready once every service is SERVING and the directory is seeded.
 */
export async function startNetworkAsPnpmStart(
  label: string,
  env: Record<string, string> = {},
  /** A database elsewhere (a fault test's own Postgres); by default one of the shared server's. */
  database?: TestDatabase,
  /** How long each service may take to say SERVING (a loaded machine starts slowly). */
  startTimeoutMs = 300_000,
): Promise<StartedNetwork> {
  const db = database ?? (await createTestDatabase(label));
  const nats = await createTestNats(label);
  const ports = { directory: 0, consent: 0, referrals: 0, audit: 0, escalation: 0, gateway: 0 };
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await sparePort();
  const tls = testTls();
  const process = runScript(
    'scripts/start.ts',
    {
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: nats.namespace,
      DIRECTORY_PORT: String(ports.directory),
      CONSENT_PORT: String(ports.consent),
      REFERRALS_PORT: String(ports.referrals),
      AUDIT_PORT: String(ports.audit),
      ESCALATION_PORT: String(ports.escalation),
      GATEWAY_PORT: String(ports.gateway),
      AUDIT_CHECKPOINT_SECONDS: '0.5',
      LOG_LEVEL: 'warn',
      PASSAGE_CERTS_DIR: tls.dir,
      ...env,
    },
    { cwd: repositoryRoot },
  );
  // As Ctrl-C does: start.ts stops every service it started and waits for them. A SIGKILL
  // would leave them running on their own (they are its children, not the test's).
  const stop = async () => {
    running.delete(stop);
    if (process.child.exitCode === null && process.child.signalCode === null) {
      process.child.kill('SIGINT');
      const stopped = await Promise.race([
        process.exited().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000)),
      ]);
      if (!stopped) await process.kill('SIGKILL');
    }
    await nats.cleanup();
    await db.drop();
  };
  running.add(stop);
  try {
    const { gateway, ...grpcPorts } = ports;
    // Each service listens from the start and says SERVING once it can serve. Six processes
    // starting at once on a loaded test machine can take minutes: wait as long as `pnpm start` does.
    for (const port of Object.values(grpcPorts)) await waitForServing(port, startTimeoutMs, tls.clientCredentials);
    await waitForPort(gateway, Math.max(60_000, startTimeoutMs));
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      // The consent service learns the seeded directory from its events: then hand-offs can start.
      await waitUntil(
        async () =>
          (await sql.query<{ n: number }>('select count(*)::int as n from consent.agencies')).rows[0]!.n ===
          ontarioAgencies.length,
        30_000,
      );
    } finally {
      await sql.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    db,
    nats,
    ports,
    process,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    credentials: tls.clientCredentials,
    stop,
  };
}
