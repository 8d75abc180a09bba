import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from './config.ts';
import type { Logger } from './logger.ts';

/**
 * What Kubernetes probes ask over plain HTTP (ADR 26): kubelet's gRPC probes cannot present a
 * client certificate, so a service that speaks gRPC only over mutual TLS answers them here.
 * Two paths and a status code, no body: nothing a caller could learn but whether the process
 * runs and whether it serves.
 */
export const probePaths = ['/livez', '/readyz'] as const;
export type ProbePath = (typeof probePaths)[number];

/** `/livez`: 200 while the event loop runs (it answers at all). `/readyz`: 200 when serving, else 503. */
export function probeStatus(path: ProbePath, ready: boolean): number {
  return path === '/livez' || ready ? 200 : 503;
}

export interface HealthListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A plaintext HTTP listener answering only GET (and HEAD) /livez and /readyz; `ready` is asked
 * on every probe. A port that cannot be had stops the service at start, naming HEALTH_PORT.
 */
export async function listenForProbes(
  host: string,
  port: number,
  ready: () => boolean,
  log: Logger,
): Promise<HealthListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const known = probePaths.find((probe) => probe === path);
    const status = !known
      ? 404
      : request.method !== 'GET' && request.method !== 'HEAD'
        ? 405
        : probeStatus(known, ready());
    response.writeHead(status, { 'content-length': '0', 'cache-control': 'no-store' }).end();
  });
  // Probes come every few seconds; an idle one is not kept waiting on a process that is stopping.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ConfigError([
          `HEALTH_PORT: cannot listen on ${host}:${port} (${error.code ?? error.message}) — choose a free port, or unset it`,
        ]),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ listen: `${host}:${bound}`, paths: probePaths }, 'health probes listening (plaintext HTTP)');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
