import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { testTls } from '@passage/platform/testing';
import { healthStatus, runScript, sparePort, type ScriptProcess } from '@passage/testing';
import { repositoryRoot } from './started-network.ts';

// `pnpm start` on a machine where Postgres and NATS do not answer: it starts an embedded
// Postgres (with the database DATABASE_URL names) and a nats-server of its own, says "sign in"
// only once every service serves, and a SIGHUP (the terminal closing) stops everything it started.

const dataDir = mkdtempSync(join(tmpdir(), 'passage-start-'));
// Run as root, the embedded Postgres runs as a user of its own, which must reach its folder in here.
chmodSync(dataDir, 0o755);
let start: ScriptProcess | undefined;

afterAll(async () => {
  if (start && start.child.exitCode === null && start.child.signalCode === null) await start.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

it('starts its own Postgres (with the database named in DATABASE_URL) and NATS, banners once all serve, and SIGHUP stops them all', async () => {
  const ports: Record<string, number> = {};
  for (const name of ['postgres', 'nats', 'directory', 'consent', 'referrals', 'audit', 'escalation', 'gateway'])
    ports[name] = await sparePort();
  const database = `passage_start_${process.pid}`;
  const tls = testTls();
  start = runScript(
    'scripts/start.ts',
    {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${ports['postgres']}/${database}`,
      NATS_URL: `nats://127.0.0.1:${ports['nats']}`,
      PASSAGE_POSTGRES_PORT: String(ports['postgres']),
      PASSAGE_NATS_PORT: String(ports['nats']),
      PASSAGE_DATA_DIR: dataDir,
      PASSAGE_CERTS_DIR: tls.dir,
      DIRECTORY_PORT: String(ports['directory']),
      CONSENT_PORT: String(ports['consent']),
      REFERRALS_PORT: String(ports['referrals']),
      AUDIT_PORT: String(ports['audit']),
      ESCALATION_PORT: String(ports['escalation']),
      GATEWAY_PORT: String(ports['gateway']),
      LOG_LEVEL: 'warn',
    },
    { cwd: repositoryRoot },
  );
  await start.waitForLine(/^Then: pnpm demo/, 300_000);
  // The banner says every service serves: each one does.
  for (const name of ['directory', 'consent', 'referrals', 'audit', 'escalation']) {
    expect(await healthStatus(`127.0.0.1:${ports[name]}`, '', tls.clientCredentials), name).toBe('SERVING');
  }
  expect((await fetch(`http://127.0.0.1:${ports['gateway']}/readyz`)).status).toBe(200);
  expect(start.output()).toMatch(/started embedded Postgres/);
  expect(start.output()).toMatch(/started nats-server/);

  // The services' data is in the database DATABASE_URL named, on the embedded server.
  const sql = new pg.Client({
    connectionString: `postgres://postgres:passage-local@127.0.0.1:${ports['postgres']}/${database}`,
  });
  await sql.connect();
  try {
    const { rows } = await sql.query<{ schema_name: string }>(
      "select schema_name from information_schema.schemata where schema_name in ('directory', 'consent')",
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((row) => row.schema_name).sort()).toEqual(['consent', 'directory']);
  } finally {
    await sql.end();
  }

  start.child.kill('SIGHUP');
  const exited = await start.exited();
  expect(exited.code).toBe(0);
  // Nothing left behind: start.ts exits only after the services, NATS and Postgres stopped.
  for (const [name, port] of Object.entries(ports)) expect(await accepts(port), name).toBe(false);
}, 420_000);
