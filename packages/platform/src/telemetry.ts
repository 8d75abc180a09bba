import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { redactSqlLiterals } from './redact-sql.ts';
import { samplerFromEnv, telemetryStarted } from './tracing.ts';

export interface TelemetryOptions {
  readonly serviceName: string;
  /** OTLP/gRPC endpoint; with neither it nor `spanProcessors`, telemetry stays off. */
  readonly otlpEndpoint?: string | undefined;
  /** Extra processors, e.g. an in-memory exporter in tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /** The environment the sampler is read from (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG); process.env by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Starts OpenTelemetry tracing with the gRPC and pg instrumentations. It must run before
 * @grpc/grpc-js and pg are first imported, so it is loaded with `node --import
 * @passage/platform/instrument` rather than from main.ts, and this module imports neither.
 * Span attributes never include request bodies or SQL values: statements are recorded
 * with their literals replaced.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<NodeSDK | undefined> {
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) {
    // OTLP over HTTP/protobuf, imported only when wanted: the gRPC exporter would load
    // @grpc/grpc-js before its instrumentation is in place.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const url = new URL('/v1/traces', options.otlpEndpoint).toString();
    processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }) }));
  }
  if (processors.length === 0) return undefined;

  // ESM imports are only visible to instrumentations through import-in-the-middle's loader hook.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  // import-in-the-middle ships an off-thread loader for module.register(); registerHooks() has no equivalent yet.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  // Parent-based with a ratio for roots, made explicit rather than left to NodeSDK's own reading.
  const { sampler } = samplerFromEnv(options.env ?? process.env);
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    sampler,
    spanProcessors: processors,
    instrumentations: [
      // Health checks (the gateway's /readyz asking upstreams, load balancers) are polls: no spans (ADR 32).
      new GrpcInstrumentation({ ignoreGrpcMethods: ['Check', 'Watch'] }),
      new PgInstrumentation({
        enhancedDatabaseReporting: false,
        // Statements reach spans without their values (see redact-sql.ts).
        requestHook: (span, info) => {
          span.setAttribute('db.query.text', redactSqlLiterals(info.query.text));
        },
      }),
    ],
  });
  sdk.start();
  telemetryStarted(sdk);
  await waitForAllMessagesAcknowledged();
  return sdk;
}
