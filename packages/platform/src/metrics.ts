import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Attributes,
  BatchObservableCallback,
  Counter,
  Histogram,
  Meter,
  Observable,
  ObservableGauge,
} from '@opentelemetry/api';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { ExportResultCode } from '@opentelemetry/core';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { ConfigError } from './config.ts';
import type { Logger } from './logger.ts';
import { untraced } from './tracing.ts';

/**
 * Every metric Passage records, declared once (docs/adr/0031-metrics-and-alerts.md): the code
 * makes its instruments from this list, and the dashboard and alert rules under
 * deploy/observability are checked against it. Attributes are method names, routes, durables,
 * streams, schemas and outcome codes: never a person, an agency or an id.
 */
export const metricCatalog = {
  serving: {
    name: 'passage_service_serving',
    kind: 'gauge',
    unit: '1',
    description: 'Whether the service answers SERVING (1) or NOT_SERVING (0): its readiness.',
    attributes: ['service'],
  },
  dependencyUp: {
    name: 'passage_dependency_up',
    kind: 'gauge',
    unit: '1',
    description: 'Whether a readiness condition holds (1) or not (0): postgres, nats, a consumer feed, an upstream.',
    attributes: ['service', 'dependency'],
  },
  rpcCalls: {
    name: 'passage_rpc_server_calls',
    kind: 'counter',
    unit: '1',
    description: 'gRPC calls answered, by method and status code.',
    attributes: ['method', 'code'],
  },
  rpcDuration: {
    name: 'passage_rpc_server_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Time from a gRPC call reaching the handler boundary to its answer.',
    attributes: ['method', 'code'],
  },
  httpRequests: {
    name: 'passage_http_server_requests',
    kind: 'counter',
    unit: '1',
    description: 'Gateway HTTP requests answered, by method, route template and status.',
    attributes: ['method', 'route', 'status'],
  },
  httpDuration: {
    name: 'passage_http_server_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Gateway HTTP request duration, by method and route template.',
    attributes: ['method', 'route'],
  },
  outboxBacklog: {
    name: 'passage_outbox_backlog',
    kind: 'gauge',
    unit: '1',
    description: 'Outbox rows not yet published, per schema.',
    attributes: ['schema'],
  },
  outboxOldestAge: {
    name: 'passage_outbox_oldest_unpublished_age_seconds',
    kind: 'gauge',
    unit: 's',
    description: 'Age of the oldest unpublished outbox row (0 when none), per schema.',
    attributes: ['schema'],
  },
  consumerPending: {
    name: 'passage_consumer_pending',
    kind: 'gauge',
    unit: '1',
    description: "Messages the durable consumer has not been delivered yet (NATS's num_pending).",
    attributes: ['durable'],
  },
  consumerAckPending: {
    name: 'passage_consumer_ack_pending',
    kind: 'gauge',
    unit: '1',
    description: 'Messages delivered to the durable consumer and not yet acknowledged.',
    attributes: ['durable'],
  },
  consumerRedelivered: {
    name: 'passage_consumer_redelivered',
    kind: 'gauge',
    unit: '1',
    description: "Messages being redelivered to the durable consumer (NATS's num_redelivered).",
    attributes: ['durable'],
  },
  consumerEvents: {
    name: 'passage_consumer_events',
    kind: 'counter',
    unit: '1',
    description: 'Deliveries handled by a durable consumer, by outcome: applied, duplicate, retry, parked.',
    attributes: ['durable', 'outcome'],
  },
  parkedEvents: {
    name: 'passage_parked_events',
    kind: 'gauge',
    unit: '1',
    description: 'Events parked after repeated failures, waiting for an operator, per durable.',
    attributes: ['durable'],
  },
  escalationTimersPending: {
    name: 'passage_escalation_timers_pending',
    kind: 'gauge',
    unit: '1',
    description: 'Escalation timers not yet fired (due or not).',
    attributes: [],
  },
  escalationTimersDue: {
    name: 'passage_escalation_timers_due',
    kind: 'gauge',
    unit: '1',
    description: 'Escalation timers past their due time and not yet fired.',
    attributes: [],
  },
  escalationLateness: {
    name: 'passage_escalation_firing_lateness_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'How long after its due time a timer was fired.',
    attributes: [],
  },
  auditIngestLag: {
    name: 'passage_audit_ingest_lag',
    kind: 'gauge',
    unit: '1',
    description:
      "Messages in a stream the audit log does not hold yet: the stream's last sequence minus the log's position.",
    attributes: ['stream'],
  },
  auditEntries: {
    name: 'passage_audit_entries',
    kind: 'gauge',
    unit: '1',
    description: 'Entries in the audit log (its tree size).',
    attributes: [],
  },
  auditCheckpointAge: {
    name: 'passage_audit_checkpoint_age_seconds',
    kind: 'gauge',
    unit: 's',
    description: 'Age of the latest signed checkpoint (absent until the first one).',
    attributes: [],
  },
  auditCheckpointSize: {
    name: 'passage_audit_checkpoint_tree_size',
    kind: 'gauge',
    unit: '1',
    description: 'Entries the latest signed checkpoint covers (0 before the first).',
    attributes: [],
  },
  auditCheckpointInterval: {
    name: 'passage_audit_checkpoint_interval_seconds',
    kind: 'gauge',
    unit: 's',
    description: 'How often a checkpoint is due while the log grows (AUDIT_CHECKPOINT_SECONDS).',
    attributes: [],
  },
  signInFailures: {
    name: 'passage_signin_failures',
    kind: 'counter',
    unit: '1',
    description: 'Refused password sign-ins at the gateway, by reason: bad_credentials, throttled, rate_limited.',
    attributes: ['reason'],
  },
  signInThrottles: {
    name: 'passage_signin_throttles',
    kind: 'counter',
    unit: '1',
    description:
      'Sign-ins refused by throttling, by gate: address_locked, account_address_locked, account_slowed, rate_limit.',
    attributes: ['gate'],
  },
  signInLockouts: {
    name: 'passage_signin_lockouts',
    kind: 'counter',
    unit: '1',
    description: "Wrong passwords that locked an address out of an account (and ended the account's sessions).",
    attributes: [],
  },
  webhookAttempts: {
    name: 'passage_webhook_attempts',
    kind: 'counter',
    unit: '1',
    description:
      'Webhook delivery attempts (ADR 46), by outcome: delivered, retry (failed, tried again later), failed (given up on after at least 24 hours).',
    attributes: ['outcome'],
  },
  webhookPending: {
    name: 'passage_webhook_deliveries_pending',
    kind: 'gauge',
    unit: '1',
    description:
      "Webhook deliveries neither delivered nor given up on: due, being retried, or waiting behind an earlier one of their referral's.",
    attributes: [],
  },
} as const satisfies Record<string, MetricDeclaration>;

export interface MetricDeclaration {
  readonly name: string;
  readonly kind: 'counter' | 'gauge' | 'histogram';
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly string[];
}

export type MetricKey = keyof typeof metricCatalog;
type KeysOfKind<K extends MetricDeclaration['kind']> = {
  [M in MetricKey]: (typeof metricCatalog)[M]['kind'] extends K ? M : never;
}[MetricKey];

/**
 * The series names a metric shows in the Prometheus exposition: a counter gets `_total`, a
 * histogram `_bucket`, `_sum` and `_count`. What dashboards and alert rules may refer to.
 */
export function prometheusSeries(declaration: MetricDeclaration): string[] {
  if (declaration.kind === 'counter') return [`${declaration.name}_total`];
  if (declaration.kind === 'histogram')
    return ['_bucket', '_sum', '_count'].map((suffix) => `${declaration.name}${suffix}`);
  return [declaration.name];
}

/** Every series name the code can export. */
export function exportedSeries(): Set<string> {
  return new Set(Object.values(metricCatalog).flatMap((declaration) => prometheusSeries(declaration)));
}

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const latenessBuckets = [1, 5, 15, 30, 60, 120, 300, 900, 3600];

/**
 * The process's metrics: one MeterProvider with a Prometheus reader (pulled only when
 * /metrics is scraped) and, with OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT set, a periodic OTLP/HTTP exporter. Instruments are made once
 * from `metricCatalog`; gauges read their values when collected, from callbacks each running
 * part adds and removes when it stops.
 */
export class PassageMetrics {
  readonly #provider: MeterProvider;
  readonly #prometheus: PrometheusExporter;
  readonly #meter: Meter;
  readonly #counters = new Map<string, Counter>();
  readonly #histograms = new Map<string, Histogram>();
  readonly #gauges = new Map<string, ObservableGauge>();

  constructor(readers: readonly MetricReader[] = []) {
    this.#prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    this.#provider = new MeterProvider({ readers: [this.#prometheus, ...readers] });
    this.#meter = this.#provider.getMeter('@passage/platform');
    for (const [key, declaration] of Object.entries(metricCatalog) as [MetricKey, MetricDeclaration][]) {
      const options = { description: declaration.description, unit: declaration.unit };
      if (declaration.kind === 'counter') this.#counters.set(key, this.#meter.createCounter(declaration.name, options));
      else if (declaration.kind === 'histogram')
        this.#histograms.set(
          key,
          this.#meter.createHistogram(declaration.name, {
            ...options,
            advice: { explicitBucketBoundaries: key === 'escalationLateness' ? latenessBuckets : durationBuckets },
          }),
        );
      else this.#gauges.set(key, this.#meter.createObservableGauge(declaration.name, options));
    }
  }

  add(key: KeysOfKind<'counter'>, attributes: Attributes = {}, value = 1): void {
    this.#counters.get(key)!.add(value, attributes);
  }

  record(key: KeysOfKind<'histogram'>, value: number, attributes: Attributes = {}): void {
    this.#histograms.get(key)!.record(value, attributes);
  }

  /**
   * Adds a callback that sets gauges when metrics are collected (it may query the database:
   * it runs per scrape, not per request); returns what removes it. A callback that fails
   * (its database down) fails neither the scrape nor the other metrics: its gauges keep the
   * last value they had (the SDK's cumulative gauges), and the service's health says why.
   */
  observe(
    keys: readonly KeysOfKind<'gauge'>[],
    callback: (
      observe: (key: KeysOfKind<'gauge'>, value: number, attributes?: Attributes) => void,
    ) => Promise<void> | void,
  ): () => void {
    const observables = keys.map((key) => this.#gauges.get(key)!);
    const batch: BatchObservableCallback = async (result) => {
      try {
        // A scrape is a poll: the queries it runs make no spans (ADR 32).
        await untraced(() =>
          callback((key, value, attributes) => {
            result.observe(this.#gauges.get(key) as Observable, value, attributes);
          }),
        );
      } catch {
        // A dependency that does not answer leaves these gauges out; its health says why.
      }
    };
    this.#meter.addBatchObservableCallback(batch, observables);
    return () => this.#meter.removeBatchObservableCallback(batch, observables);
  }

  /** The Prometheus text exposition of every metric now. */
  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.#prometheus.collect();
    return new PrometheusSerializer('', false, undefined, true, true).serialize(resourceMetrics);
  }

  /** Answers a Prometheus scrape. */
  handle(request: IncomingMessage, response: ServerResponse): void {
    this.#prometheus.getMetricsRequestHandler(request, response);
  }

  /** Pushes what the OTLP exporter has not sent yet (at shutdown; tests). */
  async flush(): Promise<void> {
    await this.#provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.#provider.shutdown();
  }
}

let processMetrics: PassageMetrics | undefined;

/** The process's metrics, made on first use (with the OTLP exporter when an endpoint is set). */
export function metrics(): PassageMetrics {
  if (!processMetrics) {
    const readers: MetricReader[] = [];
    const endpoint = process.env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] ?? process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    if (endpoint) readers.push(otlpReader(endpoint, !process.env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']));
    const made = new PassageMetrics(readers);
    // The last values pushed as the process ends, as the traces are (instrument.ts).
    if (endpoint) process.once('beforeExit', () => void made.shutdown().catch(() => undefined));
    processMetrics = made;
  }
  return processMetrics;
}

/** OTLP over HTTP/protobuf, every 30 s; the base endpoint gets `/v1/metrics`, the metrics endpoint is taken whole. */
function otlpReader(endpoint: string, base: boolean): MetricReader {
  // Loaded lazily, as the trace exporter is (telemetry.ts).
  const pending = import('@opentelemetry/exporter-metrics-otlp-proto').then(({ OTLPMetricExporter }) => {
    const url = base ? new URL('/v1/metrics', endpoint).toString() : endpoint;
    return new OTLPMetricExporter({ url });
  });
  const exporter: PushMetricExporter = {
    export: (batch, done) => {
      pending.then(
        (loaded) => loaded.export(batch, done),
        (error: unknown) => done({ code: ExportResultCode.FAILED, error: error as Error }),
      );
    },
    forceFlush: async () => (await pending).forceFlush(),
    shutdown: async () => (await pending).shutdown(),
  };
  return new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 30_000 });
}

export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A plaintext HTTP listener answering only GET /metrics, for Prometheus (METRICS_PORT): apart
 * from the health port, which kubelet probes, and from the gateway's public port.
 */
export async function listenForMetrics(host: string, port: number, log: Logger): Promise<MetricsListener> {
  const source = metrics();
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'content-length': '0' }).end();
      return;
    }
    source.handle(request, response);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ConfigError([
          `METRICS_PORT: cannot listen on ${host}:${port} (${error.code ?? error.message}) — choose a free port, or unset it`,
        ]),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ listen: `${host}:${bound}` }, 'Prometheus metrics listening (plaintext HTTP, GET /metrics)');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Reads the samples of a Prometheus text exposition (what tests and checks look at). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}
