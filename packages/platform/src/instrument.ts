// Loaded with `node --import @passage/platform/instrument` before any service code, so the
// gRPC and pg instrumentations see those modules load. Off unless an OTLP endpoint is set.
import { startTelemetry } from './telemetry.ts';

const endpoint = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
if (endpoint) {
  const sdk = await startTelemetry({
    serviceName: process.env['OTEL_SERVICE_NAME'] ?? 'passage',
    otlpEndpoint: endpoint,
  });
  process.once('beforeExit', () => void sdk?.shutdown());
}
