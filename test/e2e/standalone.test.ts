import { randomUUID } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { clientCredentialsFrom } from '@passage/platform/testing';
import { runScript, sparePort, waitForPort, waitForServing, type ScriptProcess } from '@passage/testing';

// `pnpm start` on a machine where neither Postgres nor NATS answers: it starts an embedded
// Postgres and a nats-server of its own, keeps their data, stops them cleanly, and a second
// start finds everything as it was. Its development certificates (mutual TLS between the
// services) are made once in the data folder and reused.
const root = fileURLToPath(new URL('../../', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'passage-standalone-'));
chmodSync(dataDir, 0o755); // the embedded Postgres runs as its own user when started by root
let running: ScriptProcess | undefined;
const certsDir = join(dataDir, 'certs');
const caFingerprint = () => new X509Certificate(readFileSync(join(certsDir, 'ca.crt'))).fingerprint256;

afterAll(async () => {
  await running?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(ports: Record<string, number>): Promise<ScriptProcess> {
  const child = runScript(
    'scripts/start.ts',
    {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${ports['deadPostgres']}/passage`,
      NATS_URL: `nats://127.0.0.1:${ports['deadNats']}`,
      PASSAGE_DATA_DIR: dataDir,
      PASSAGE_POSTGRES_PORT: String(ports['postgres']),
      PASSAGE_NATS_PORT: String(ports['nats']),
      DIRECTORY_PORT: String(ports['directory']),
      CONSENT_PORT: String(ports['consent']),
      REFERRALS_PORT: String(ports['referrals']),
      AUDIT_PORT: String(ports['audit']),
      ESCALATION_PORT: String(ports['escalation']),
      GATEWAY_PORT: String(ports['gateway']),
      LOG_LEVEL: 'warn',
    },
    { cwd: root },
  );
  running = child;
  // The certificates are there before the first service is started.
  await child.waitForLine(/^directory: gRPC on /, 90_000);
  const credentials = clientCredentialsFrom(certsDir, 'cli');
  // Each service listens from the start and says SERVING once it can serve.
  for (const name of ['directory', 'consent', 'referrals', 'audit', 'escalation']) {
    await waitForServing(ports[name]!, 90_000, credentials);
  }
  await waitForPort(ports['gateway']!, 90_000);
  return child;
}

async function signIn(port: number, username: string) {
  const response = await fetch(`http://127.0.0.1:${port}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'passage-demo' }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { csrfToken: string };
  return { cookie: (response.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body.csrfToken };
}

// Two starts of everything, an embedded Postgres and certificates: over a minute on a busy machine.
it('starts its own Postgres and NATS when none answers, and keeps their data across restarts', async () => {
  const ports: Record<string, number> = {};
  for (const name of [
    'deadPostgres',
    'deadNats',
    'postgres',
    'nats',
    'directory',
    'consent',
    'referrals',
    'audit',
    'escalation',
    'gateway',
  ]) {
    ports[name] = await sparePort();
  }
  const first = await start(ports);
  expect(first.output()).toContain(`started embedded Postgres on 127.0.0.1:${ports['postgres']}`);
  expect(first.output()).toContain(`started nats-server with JetStream on 127.0.0.1:${ports['nats']}`);
  expect(first.output()).toContain(`made development certificates (mutual TLS between the services) in ${certsDir}`);
  const ca = caFingerprint();
  const officer = await signIn(ports['gateway']!, 'peel-officer');
  const granted = await fetch(`http://127.0.0.1:${ports['gateway']}/api/consents`, {
    method: 'POST',
    headers: {
      cookie: officer.cookie,
      'x-csrf-token': officer.csrf,
      'idempotency-key': randomUUID(),
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      method: 'CAPTURE_METHOD_VERBAL',
      language: 'en',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      scopes: [{ recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['needs'] }],
    }),
  });
  expect(granted.status).toBe(201);
  const { subjectRef } = (await granted.json()) as { subjectRef: string };
  first.child.kill('SIGINT');
  expect((await first.exited()).code).toBe(0);
  expect(first.output()).toContain('stopped the servers started here');

  const second = await start(ports);
  expect(second.output()).not.toContain('made development certificates');
  expect(caFingerprint()).toBe(ca);
  const again = await signIn(ports['gateway']!, 'peel-officer');
  const history = await fetch(`http://127.0.0.1:${ports['gateway']}/api/subjects/${subjectRef}/consents`, {
    headers: { cookie: again.cookie },
  });
  expect(history.status).toBe(200);
  expect(((await history.json()) as { consents: unknown[] }).consents).toHaveLength(1);
  second.child.kill('SIGINT');
  expect((await second.exited()).code).toBe(0);
  running = undefined;
}, 240_000);
