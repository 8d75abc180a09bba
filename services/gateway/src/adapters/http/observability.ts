import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { metrics, untraced, type Readiness } from '@passage/platform';
import type { SignInRefusal } from '../../app/sessions.ts';

/** One dependency in GET /readyz: whether it answers, and whether the gateway's readiness needs it. */
export interface DependencyStatus {
  readonly status: 'up' | 'down';
  readonly required: boolean;
}

/** GET /readyz's body: `ok` (200) while every required dependency is up, else `unavailable` (503). */
export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly dependencies: Readonly<Record<string, DependencyStatus>>;
}

export interface GatewayHealthOptions {
  /** The gateway's own conditions: `postgres`, `nats` (watchDependencies) and `http`. */
  readonly readiness: Readiness;
  /** The upstream gRPC services by full name (ServiceClients.byService). */
  readonly upstreams: ReadonlyMap<string, grpc.Client>;
  /** How long an upstream's grpc.health.v1 check may take (default 1 s). */
  readonly timeoutMs?: number;
  /** How long an answer is reused: /readyz is on the public port and costs five calls (default 2 s). */
  readonly cacheMs?: number;
}

/**
 * What the gateway answers at GET /readyz: its own Postgres, NATS and HTTP server (required:
 * without them it cannot serve anything), and the grpc.health.v1 status of each upstream
 * service. An upstream that is down is reported but does not make the gateway unready:
 * taking every gateway out of the load balancer because one service is down would also take
 * away sign-in, the console and every other service's routes (docs/adr/0031-metrics-and-alerts.md).
 */
export class GatewayHealth {
  readonly #options: Required<GatewayHealthOptions>;
  #cached: { at: number; report: Promise<HealthReport> } | undefined;

  constructor(options: GatewayHealthOptions) {
    this.#options = { timeoutMs: 1_000, cacheMs: 2_000, ...options };
  }

  report(): Promise<HealthReport> {
    const now = Date.now();
    if (this.#cached && now - this.#cached.at < this.#options.cacheMs) return this.#cached.report;
    const report = this.#check();
    this.#cached = { at: now, report };
    return report;
  }

  async #check(): Promise<HealthReport> {
    const dependencies: Record<string, DependencyStatus> = {};
    for (const [name, holds] of this.#options.readiness.conditions())
      dependencies[name] = { status: holds ? 'up' : 'down', required: true };
    const upstreams = await Promise.all(
      [...this.#options.upstreams].map(
        async ([service, client]) =>
          [shortName(service), await untraced(() => serving(client, service, this.#options.timeoutMs))] as const,
      ),
    );
    for (const [name, up] of upstreams) dependencies[name] = { status: up ? 'up' : 'down', required: false };
    const ready = Object.values(dependencies).every((dependency) => !dependency.required || dependency.status === 'up');
    return { status: ready ? 'ok' : 'unavailable', dependencies };
  }

  /** Each upstream's health as a gateway dependency (passage_dependency_up); returns what removes it. */
  observe(): () => void {
    return metrics().observe(['dependencyUp'], async (observe) => {
      const report = await this.report();
      for (const [dependency, status] of Object.entries(report.dependencies))
        if (!status.required)
          observe('dependencyUp', status.status === 'up' ? 1 : 0, { service: 'gateway', dependency });
    });
  }
}

/** `passage.referrals.v1.ReferralService` → `referrals`. */
function shortName(service: string): string {
  return service.split('.')[1] ?? service;
}

/**
 * grpc.health.v1.Health/Check for `service` on the client's own channel (its TLS, its
 * address): true when it answers SERVING. The two messages are encoded by hand: a request
 * with field 1 (service, a string), a response with field 1 (status, an enum; SERVING is 1).
 */
function serving(client: grpc.Client, service: string, timeoutMs: number): Promise<boolean> {
  const name = Buffer.from(service);
  const request = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, response) => resolve(!error && response?.[0] === 0x08 && response[1] === 1),
    );
  });
}

/** Counts each refused password sign-in: why, never who (ADR 9). */
export function recordSignInRefusal(refusal: SignInRefusal): void {
  if (refusal.reason === 'throttled') {
    metrics().add('signInFailures', { reason: 'throttled' });
    metrics().add('signInThrottles', { gate: refusal.gate });
  } else {
    metrics().add('signInFailures', { reason: 'bad_credentials' });
    if (refusal.lockedOut) metrics().add('signInLockouts');
  }
}

/**
 * Every answer counted by method, route template (never the path itself: it holds ids) and
 * status, and timed; a sign-in refused by the per-address rate limit counts as a throttle.
 */
export function recordHttpMetrics(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = (request.is404 ? undefined : request.routeOptions.url) ?? 'unmatched';
    const method = request.method;
    metrics().add('httpRequests', { method, route, status: reply.statusCode });
    metrics().record('httpDuration', reply.elapsedTime / 1000, { method, route });
    if (method === 'POST' && route === '/api/session' && reply.statusCode === 429) {
      metrics().add('signInFailures', { reason: 'rate_limited' });
      metrics().add('signInThrottles', { gate: 'rate_limit' });
    }
  });
}
