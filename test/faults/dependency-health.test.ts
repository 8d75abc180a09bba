import { afterAll, beforeAll, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import {
  healthStatus,
  runScript,
  sparePort,
  startPrivateNats,
  startPrivatePostgres,
  waitFor,
  waitForPort,
  waitForServing,
  type PrivateServer,
  type ScriptProcess,
} from '@passage/testing';
import { repositoryRoot } from '../e2e/started-network.ts';

// A serving service whose Postgres or NATS goes away says so: health NOT_SERVING (gRPC, the
// health port and passage_service_serving on its Prometheus port), naming the dependency in
// passage_dependency_up, and SERVING again once it is back. Its own private servers, stopped
// and started here.
let postgres: PrivateServer;
let nats: PrivateServer;
let service: ScriptProcess | undefined;

beforeAll(async () => {
  [postgres, nats] = await Promise.all([startPrivatePostgres(), startPrivateNats()]);
});

afterAll(async () => {
  await service?.kill('SIGKILL');
  await nats?.dispose();
  await postgres?.dispose();
});

it('turns NOT_SERVING while Postgres or NATS is away, naming it, and SERVING once it is back', async () => {
  const port = await sparePort();
  const healthPort = await sparePort();
  const metricsPort = await sparePort();
  const { clientCredentials } = testTls();
  service = runScript(
    'services/directory/src/main.ts',
    {
      DATABASE_URL: postgres.url,
      NATS_URL: nats.url,
      GRPC_PORT: String(port),
      HEALTH_PORT: String(healthPort),
      METRICS_PORT: String(metricsPort),
      DEPENDENCY_CHECK_MS: '200',
      PASSAGE_ENV: 'development',
      LOG_LEVEL: 'warn',
      ...testTls('directory').env,
    },
    { cwd: repositoryRoot },
  );
  await waitForPort(metricsPort, 60_000);
  await waitForServing(port, 90_000, clientCredentials);

  const scrape = async (): Promise<Sample[]> =>
    parsePrometheusText(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
  const gauge = (samples: Sample[], name: string, labels: Record<string, string>): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status;
  const health = (): Promise<string> => healthStatus(`127.0.0.1:${port}`, '', clientCredentials);
  const serving = { service: 'directory' };

  const up = await scrape();
  expect(gauge(up, 'passage_service_serving', serving)).toBe(1);
  expect(gauge(up, 'passage_dependency_up', { ...serving, dependency: 'postgres' })).toBe(1);
  expect(gauge(up, 'passage_dependency_up', { ...serving, dependency: 'nats' })).toBe(1);

  // Postgres away: the next check fails.
  await postgres.kill();
  await waitFor(health, (status) => status === 'NOT_SERVING', 30_000);
  expect(await readyz()).toBe(503);
  const noPostgres = await scrape();
  expect(gauge(noPostgres, 'passage_service_serving', serving)).toBe(0);
  expect(gauge(noPostgres, 'passage_dependency_up', { ...serving, dependency: 'postgres' })).toBe(0);
  expect(gauge(noPostgres, 'passage_dependency_up', { ...serving, dependency: 'nats' })).toBe(1);
  expect(service.child.exitCode).toBeNull();
  await postgres.restart();
  await waitForServing(port, 60_000, clientCredentials);
  expect(await readyz()).toBe(200);

  // NATS away: the connection says so at once.
  await nats.kill();
  await waitFor(health, (status) => status === 'NOT_SERVING', 30_000);
  const noNats = await scrape();
  expect(gauge(noNats, 'passage_dependency_up', { ...serving, dependency: 'nats' })).toBe(0);
  expect(gauge(noNats, 'passage_dependency_up', { ...serving, dependency: 'postgres' })).toBe(1);
  await nats.restart();
  await waitForServing(port, 60_000, clientCredentials);
  expect(gauge(await scrape(), 'passage_service_serving', serving)).toBe(1);
  expect(service.child.exitCode).toBeNull();
}, 240_000);
