// Loaded with `node --import` by the tracing test project (vitest.config.ts): starts
// OpenTelemetry with an in-memory exporter before grpc-js and pg are imported, so their
// instrumentations apply. Tests read the finished spans with `finishedSpans()`.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
// The spans entry alone: the package's index would load pg and grpc-js before telemetry starts.
import { spanExporterKey } from '@passage/testing/spans';
import { startTelemetry } from '../src/telemetry.ts';

const exporter = new InMemorySpanExporter();
(globalThis as Record<symbol, unknown>)[spanExporterKey] = exporter;
await startTelemetry({ serviceName: 'passage-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
