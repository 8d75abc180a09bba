import { afterAll, beforeAll, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { directory } from '@passage/contracts';
import {
  createTestNats,
  healthStatus,
  runScript,
  sparePort,
  startPrivatePostgres,
  waitForPort,
  waitForServing,
  type PrivateServer,
  type ScriptProcess,
  type TestNats,
} from '@passage/testing';
import { testTls } from '@passage/platform/testing';
import { repositoryRoot } from '../e2e/started-network.ts';

// A service started while its Postgres is down neither exits nor hides: it listens, answers
// health NOT_SERVING and every call UNAVAILABLE, waits with backoff, and serves once Postgres is up.
let postgres: PrivateServer;
let nats: TestNats;
let service: ScriptProcess | undefined;

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  nats = await createTestNats('start-while-down');
});

afterAll(async () => {
  await service?.kill('SIGKILL');
  await nats?.cleanup();
  await postgres?.dispose();
});

function listAgencies(port: number): Promise<number | 'ok'> {
  const client = new directory.DirectoryServiceClient(`127.0.0.1:${port}`, testTls().clientCredentials);
  return new Promise((resolve) => {
    client.listAgencies(
      { kind: '', region: '', service: '', language: '' },
      new grpc.Metadata(),
      { deadline: Date.now() + 15_000 },
      (error) => {
        client.close();
        resolve(error ? error.code : 'ok');
      },
    );
  });
}

/** What a Kubernetes probe of the plaintext health port gets. */
async function probe(port: number, path: '/livez' | '/readyz'): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
}

it('waits for Postgres, saying NOT_SERVING (on gRPC and on its health port), then serves', async () => {
  await postgres.kill();
  const port = await sparePort();
  const healthPort = await sparePort();
  const { clientCredentials } = testTls();
  service = runScript(
    'services/directory/src/main.ts',
    {
      DATABASE_URL: postgres.url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: nats.namespace,
      GRPC_PORT: String(port),
      HEALTH_PORT: String(healthPort),
      PASSAGE_ENV: 'development',
      LOG_LEVEL: 'warn',
      ...testTls('directory').env,
    },
    { cwd: repositoryRoot },
  );
  await waitForPort(port, 60_000);
  await waitForPort(healthPort, 60_000);
  expect(await healthStatus(`127.0.0.1:${port}`, '', clientCredentials)).toBe('NOT_SERVING');
  expect(await probe(healthPort, '/readyz')).toBe(503);
  expect(await probe(healthPort, '/livez')).toBe(200);
  expect(await listAgencies(port)).toBe(grpc.status.UNAVAILABLE);
  // It keeps waiting (a log line per try) rather than exiting.
  await service.waitForLine(/waiting for Postgres/, 30_000);
  expect(service.child.exitCode).toBeNull();

  await postgres.restart();
  await waitForServing(port, 90_000, clientCredentials);
  expect(await probe(healthPort, '/readyz')).toBe(200);
  expect(await listAgencies(port)).toBe('ok');
  expect(service.child.exitCode).toBeNull();
}, 180_000);
