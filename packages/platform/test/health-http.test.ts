import { createServer } from 'node:net';
import { healthStatus } from '@passage/testing';
import { testTls } from '../src/testing.ts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createLogger,
  grpcTransport,
  loadConfig,
  baseConfigSchema,
  openGrpcServer,
} from '../src/index.ts';

// The plaintext HTTP port Kubernetes probes: it follows the gRPC health status of a server
// that itself speaks only mutual TLS, and answers nothing else.
const log = createLogger('health-http-test', 'silent');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function opened(env: Record<string, string>) {
  const config = loadConfig(baseConfigSchema, { ...testTls('referrals').env, GRPC_PORT: '0', ...env });
  const server = await openGrpcServer(
    { contracts: [], descriptorSet: Buffer.alloc(0), log, transport: grpcTransport(config, log) },
    config,
  );
  stops.push(() => server.shutdown(100));
  return server;
}

async function probe(port: number | undefined, path: string, method = 'GET') {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: await response.text() };
}

describe('the HTTP health port', () => {
  it('answers /readyz from the gRPC health status and /livez while the process runs, with no body', async () => {
    const server = await opened({ HEALTH_PORT: '0' });
    const port = server.healthPort;
    expect(port).toBeGreaterThan(0);
    const grpcHealth = () => healthStatus(server.address, '', testTls('cli').clientCredentials);

    expect(await grpcHealth()).toBe('NOT_SERVING');
    expect(await probe(port, '/readyz')).toEqual({ status: 503, body: '' });
    expect(await probe(port, '/livez')).toEqual({ status: 200, body: '' });

    const running = server.serve([]);
    expect(await grpcHealth()).toBe('SERVING');
    expect(await probe(port, '/readyz')).toEqual({ status: 200, body: '' });
    expect((await probe(port, '/readyz', 'HEAD')).status).toBe(200);

    running.setServing(false);
    expect(await grpcHealth()).toBe('NOT_SERVING');
    expect((await probe(port, '/readyz')).status).toBe(503);
    expect((await probe(port, '/livez')).status).toBe(200);
    running.setServing(true);
    expect((await probe(port, '/readyz?verbose')).status).toBe(200);

    // Nothing else: no other path, no other method.
    expect((await probe(port, '/')).status).toBe(404);
    expect((await probe(port, '/healthz')).status).toBe(404);
    expect((await probe(port, '/readyz/x')).status).toBe(404);
    expect((await probe(port, '/readyz', 'POST')).status).toBe(405);

    await running.shutdown(100);
    await expect(fetch(`http://127.0.0.1:${port}/livez`)).rejects.toThrow();
  });

  it('is off unless HEALTH_PORT is set, and a port already taken stops the start naming HEALTH_PORT', async () => {
    expect((await opened({})).healthPort).toBeUndefined();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => taken.close(() => resolve())));
    const { port } = taken.address() as { port: number };
    const refused = opened({ HEALTH_PORT: String(port) });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(`HEALTH_PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
  });
});
