// Loaded with `node --import @passage/platform/instrument` before any service code, so the
// gRPC and pg instrumentations see those modules load. Off unless an OTLP endpoint is set.
// The spans still buffered are exported by `Shutdown.onSignals` (stopTelemetry) before exit.
import { stopTelemetry } from './tracing.ts';
import { startTelemetry } from './telemetry.ts';

const endpoint = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
if (endpoint) {
  await startTelemetry({
    serviceName: process.env['OTEL_SERVICE_NAME'] ?? 'passage',
    otlpEndpoint: endpoint,
  });
  // A process that ends by running out of work, with no signal, exports its spans too.
  process.once('beforeExit', () => void stopTelemetry());
}
