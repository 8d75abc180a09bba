// `pnpm start`: the whole Passage network on this machine, with the seeded Ontario
// directory and the demo users. Uses Postgres and NATS (JetStream) at DATABASE_URL and
// NATS_URL (or the localhost defaults) when they answer, otherwise starts its own under
// .passage/ (scripts/local-servers.ts). DIRECTORY_PORT, CONSENT_PORT, REFERRALS_PORT, AUDIT_PORT and
// ESCALATION_PORT move the services off 50051–50055, GATEWAY_PORT the gateway off 8080. Ctrl-C (or SIGTERM, or
// SIGHUP: the terminal closing) stops every service gracefully, and the Postgres and NATS it started.
// The sign-in banner comes once every service answers its readiness probe (each gRPC service gets a
// plaintext HEALTH_PORT on a free port for it; the gateway's own /readyz).
// The services call each other over mutual TLS with development certificates made once under
// .passage/certs (PASSAGE_CERTS_DIR moves them) by `passage certs dev`, and reused.
// PASSAGE_METRICS_PORT=9460 gives each service a Prometheus /metrics port from there, in the order
// directory, consent, referrals, audit, escalation, gateway (9460–9465).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { buildConsole } from './console-build.ts';
import { CannotStart, localServers } from './local-servers.ts';
import { waitUntilReady } from './readiness-wait.ts';

if (!buildConsole()) {
  console.error('the web console did not build (see above)');
  process.exit(1);
}

const dataDir = process.env['PASSAGE_DATA_DIR'] ?? fileURLToPath(new URL('../.passage/', import.meta.url));
const servers = await localServers({
  databaseUrl: process.env['DATABASE_URL'] ?? 'postgres://postgres@localhost:5432/passage',
  natsUrl: process.env['NATS_URL'] ?? 'nats://localhost:4222',
  dataDir,
  postgresPort: Number(process.env['PASSAGE_POSTGRES_PORT'] ?? 54329),
  natsPort: Number(process.env['PASSAGE_NATS_PORT'] ?? 54222),
  log: (line) => console.log(line),
}).catch((error: unknown) => {
  console.error(error instanceof CannotStart ? error.message : String(error));
  process.exit(1);
});
const { databaseUrl, natsUrl } = servers;

/** What is running (the services, once started): stopped on Ctrl-C, SIGTERM or SIGHUP. */
let supervised: { stop(): Promise<void> }[] = [];
let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  void Promise.all(supervised.map((entry) => entry.stop()))
    .then(() => servers.stop())
    .then(() => {
      if (servers.started.length > 0) console.log(`stopped the servers started here; their data stays in ${dataDir}`);
      process.exit(code);
    });
}
// From here on, not to leave the Postgres and nats-server started above behind. SIGHUP: the
// terminal closing, as Ctrl-C.
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGHUP', () => stop(0));

const repositoryRoot = fileURLToPath(new URL('../', import.meta.url));
const certsDir = process.env['PASSAGE_CERTS_DIR'] ?? join(dataDir, 'certs');
const parties = ['directory', 'consent', 'referrals', 'audit', 'escalation', 'gateway', 'cli'];

/** Whether a certificate file is there and valid for another week. */
function lasting(file: string): boolean {
  if (!existsSync(file)) return false;
  return new X509Certificate(readFileSync(file)).validToDate.getTime() > Date.now() + 7 * 86_400_000;
}

/**
 * The development CA and every party's certificate, made once by `passage certs dev` and
 * reused; made again (the CA too, when it is the one running out) when one is missing or
 * about to expire. Never for real data.
 */
function ensureCertificates(): void {
  const ca = join(certsDir, 'ca.crt');
  if (
    lasting(ca) &&
    parties.every((name) => lasting(join(certsDir, `${name}.crt`)) && existsSync(join(certsDir, `${name}.key`)))
  )
    return;
  if (!lasting(ca)) {
    rmSync(ca, { force: true });
    rmSync(join(certsDir, 'ca.key'), { force: true });
  }
  const made = spawnSync(process.execPath, ['packages/cli/src/main.ts', 'certs', 'dev', '--out', certsDir], {
    cwd: repositoryRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (made.status !== 0) {
    console.error(`could not make the development certificates in ${certsDir} (see above)`);
    process.exit(1);
  }
  console.log(`made development certificates (mutual TLS between the services) in ${certsDir}`);
}

ensureCertificates();
/** A party's certificate, as the GRPC_TLS_*_FILE settings every service and the CLI read. */
const tlsFiles = (name: string): Record<string, string> => ({
  GRPC_TLS_CA_FILE: join(certsDir, 'ca.crt'),
  GRPC_TLS_CERT_FILE: join(certsDir, `${name}.crt`),
  GRPC_TLS_KEY_FILE: join(certsDir, `${name}.key`),
});
// Inline GRPC_TLS_* and the files both set would be refused: every service gets its own certificate's files.
// HEALTH_PORT is chosen here, per service.
// One METRICS_PORT for six processes would collide: PASSAGE_METRICS_PORT numbers them instead.
const {
  GRPC_TLS_CA: _ca,
  GRPC_TLS_CERT: _cert,
  GRPC_TLS_KEY: _key,
  HEALTH_PORT: _health,
  METRICS_PORT: _metrics,
  ...inherited
} = process.env;
const metricsBase = process.env['PASSAGE_METRICS_PORT'] ? Number(process.env['PASSAGE_METRICS_PORT']) : undefined;

/** A port free now, for a service's plaintext health listener (/readyz), which start.ts polls. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface ServiceSpec {
  readonly name: string;
  /** The service's folder; its main is src/main.ts. */
  readonly dir: string;
  readonly port: number;
  /** Where its readiness is asked: HEALTH_PORT for a gRPC service, HTTP_PORT for the gateway. */
  readonly readyUrl: string;
  readonly env?: Record<string, string>;
}

const port = (name: string, fallback: number): number => Number(process.env[`${name.toUpperCase()}_PORT`] ?? fallback);
const ports = {
  directory: port('directory', 50051),
  consent: port('consent', 50052),
  referrals: port('referrals', 50053),
  audit: port('audit', 50054),
  escalation: port('escalation', 50055),
  gateway: port('gateway', 8080),
};
const demoPassword = process.env['DEMO_PASSWORD'] ?? 'passage-demo';

const healthPorts = {
  directory: await freePort(),
  consent: await freePort(),
  referrals: await freePort(),
  audit: await freePort(),
  escalation: await freePort(),
};
/** A gRPC service's own settings, with its health port and the URL start.ts asks it is ready at. */
const grpcService = (name: keyof typeof healthPorts, env: Record<string, string> = {}): ServiceSpec => ({
  name,
  dir: `services/${name}`,
  port: ports[name],
  readyUrl: `http://127.0.0.1:${healthPorts[name]}/readyz`,
  env: { HEALTH_HOST: '127.0.0.1', HEALTH_PORT: String(healthPorts[name]), ...env },
});

const services: ServiceSpec[] = [
  grpcService('directory', { DIRECTORY_SEED: 'ontario' }),
  grpcService('consent'),
  grpcService('referrals', {
    DIRECTORY_ADDRESS: `127.0.0.1:${ports.directory}`,
    CONSENT_ADDRESS: `127.0.0.1:${ports.consent}`,
  }),
  grpcService('audit'),
  grpcService('escalation', {
    REFERRALS_ADDRESS: `127.0.0.1:${ports.referrals}`,
    DIRECTORY_ADDRESS: `127.0.0.1:${ports.directory}`,
    CONSENT_ADDRESS: `127.0.0.1:${ports.consent}`,
  }),
  {
    name: 'gateway',
    dir: 'services/gateway',
    port: ports.gateway,
    readyUrl: `http://127.0.0.1:${ports.gateway}/readyz`,
    env: {
      HTTP_PORT: String(ports.gateway),
      DIRECTORY_ADDRESS: `127.0.0.1:${ports.directory}`,
      CONSENT_ADDRESS: `127.0.0.1:${ports.consent}`,
      REFERRALS_ADDRESS: `127.0.0.1:${ports.referrals}`,
      AUDIT_ADDRESS: `127.0.0.1:${ports.audit}`,
      ESCALATION_ADDRESS: `127.0.0.1:${ports.escalation}`,
      DEMO_USERS: 'on',
      DEMO_PASSWORD: demoPassword,
    },
  },
];

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
  } catch (error) {
    console.error(`Postgres does not answer at ${admin.host}: ${(error as Error).message}`);
    console.error('Start it (see README, "Prerequisites") or set DATABASE_URL.');
    process.exit(1);
  }
  const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
  if (exists.rowCount === 0) {
    await client.query(`create database "${name.replace(/"/g, '""')}"`);
    console.log(`created database ${name}`);
  }
  await client.end();
}

await ensureDatabase(databaseUrl);

/**
 * Supervision: a service that exits unexpectedly is started again after a backoff (1 s,
 * doubling to 30 s; back to 1 s once it has run for a minute), with a log line; the others
 * keep serving. Only Ctrl-C (or SIGTERM) stops the network.
 */
class Supervised {
  child: ChildProcess | undefined;
  #backoffMs = 1_000;
  #restart: NodeJS.Timeout | undefined;

  readonly service: ServiceSpec;

  constructor(service: ServiceSpec) {
    this.service = service;
  }

  start(): void {
    const { service } = this;
    const startedAt = Date.now();
    // Run from the service's folder so that `--import` resolves its own dependencies.
    const child = spawn(process.execPath, ['--import', '@passage/platform/instrument', 'src/main.ts'], {
      cwd: new URL(`../${service.dir}/`, import.meta.url),
      env: {
        ...inherited,
        ...tlsFiles(service.name),
        DATABASE_URL: databaseUrl,
        NATS_URL: natsUrl,
        GRPC_HOST: process.env['GRPC_HOST'] ?? '127.0.0.1',
        GRPC_PORT: String(service.port),
        OTEL_SERVICE_NAME: `passage-${service.name}`,
        // Built-in development keys (KEK, token and receipt signing); never for real data.
        PASSAGE_ENV: process.env['PASSAGE_ENV'] ?? 'development',
        ...(metricsBase === undefined ? {} : { METRICS_PORT: String(metricsBase + services.indexOf(service)) }),
        ...service.env,
      },
      stdio: 'inherit',
    });
    this.child = child;
    child.on('exit', (code, signal) => {
      if (stopping) {
        console.log(`${service.name} exited (${signal ?? code})`);
        return;
      }
      if (Date.now() - startedAt > 60_000) this.#backoffMs = 1_000;
      console.log(
        `${service.name} exited unexpectedly (${signal ?? code}); restarting it in ${this.#backoffMs / 1000} s, the others keep serving`,
      );
      this.#restart = setTimeout(() => this.start(), this.#backoffMs);
      this.#backoffMs = Math.min(this.#backoffMs * 2, 30_000);
    });
  }

  /** Stops it for good: SIGTERM (a graceful shutdown), and no restart. */
  stop(): Promise<void> {
    clearTimeout(this.#restart);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    return exited;
  }
}

// Not when a signal came meanwhile: stop() is ending the process.
supervised = (stopping ? [] : services).map((service) => {
  const entry = new Supervised(service);
  entry.start();
  console.log(
    service.name === 'gateway'
      ? `gateway: http://localhost:${service.port}`
      : `${service.name}: gRPC on 127.0.0.1:${service.port}`,
  );
  return entry;
});

const startDeadlineSeconds = Number(process.env['PASSAGE_START_DEADLINE_SECONDS'] ?? 180);
const notUp = await waitUntilReady(
  services.map((service) => ({ name: service.name, url: service.readyUrl })),
  {
    deadlineMs: startDeadlineSeconds * 1000,
    reportEveryMs: 15_000,
    log: (line) => console.log(line),
    stopped: () => stopping,
  },
);
if (stopping) {
  // Stopping already (Ctrl-C while it started): no banner.
} else if (notUp.length > 0) {
  console.error(
    `not serving after ${startDeadlineSeconds} s: ${notUp.join(', ')} (see its log above; it is restarted if it exits). ` +
      'The others serve; Ctrl-C stops everything.',
  );
} else {
  printBanner();
}

function printBanner(): void {
  console.log(
    'caller tokens for the demo users: pnpm dev-token <user> (e.g. peel-officer, london-intake, auditor, admin)',
  );
  const cliTls = Object.entries(tlsFiles('cli'))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  console.log(
    `audit log: PASSAGE_ENV=development pnpm passage audit verify; reports (mutual TLS, the cli certificate): ${cliTls} PASSAGE_ENV=development pnpm passage report handoff`,
  );
  console.log(
    [
      '',
      `Console: http://localhost:${ports.gateway} (API: /api, OpenAPI: /api/docs) — every demo user's password: ${demoPassword}`,
      '  peel-officer, opp-officer, tps-officer       police officers (Peel, OPP, Toronto)',
      '  crisis-counsellor                           the 24/7 crisis line',
      '  walk-with-me-worker                         first response, Walk With Me',
      '  london-intake, pact-intake (French)          coalition intake (London, PACT-Ottawa)',
      '  windsor-supervisor, london-supervisor        coalition supervisors',
      '  auditor, admin                              the Ministry',
      'Then: pnpm demo  (plays the story through the API)',
    ].join('\n'),
  );
}
