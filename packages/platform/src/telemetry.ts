import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';

export interface TelemetryOptions {
  readonly serviceName: string;
  /** OTLP/gRPC endpoint; with neither it nor `spanProcessors`, telemetry stays off. */
  readonly otlpEndpoint?: string | undefined;
  /** Extra processors, e.g. an in-memory exporter in tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/**
 * Starts OpenTelemetry tracing with the gRPC and pg instrumentations. It must run before
 * @grpc/grpc-js and pg are first imported, so it is loaded with `node --import
 * @passage/platform/instrument` rather than from main.ts. Span attributes never include
 * request bodies or SQL parameters: statements are recorded without their values.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<NodeSDK | undefined> {
  const processors = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) {
    processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: options.otlpEndpoint }) }));
  }
  if (processors.length === 0) return undefined;

  // ESM imports are only visible to instrumentations through import-in-the-middle's loader hook.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  // import-in-the-middle ships an off-thread loader for module.register(); registerHooks() has no equivalent yet.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: processors,
    instrumentations: [new GrpcInstrumentation(), new PgInstrumentation({ enhancedDatabaseReporting: false })],
  });
  sdk.start();
  await waitForAllMessagesAcknowledged();
  return sdk;
}
