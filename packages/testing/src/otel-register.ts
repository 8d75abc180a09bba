// Loaded with `node --import` by the tracing test project (vitest.config.ts): starts
// OpenTelemetry with an in-memory exporter before grpc-js and pg are imported, so their
// instrumentations apply. Tests read the finished spans with `finishedSpans()`.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTelemetry } from '@passage/platform/telemetry';
import { spanExporterKey } from './spans.ts';

const exporter = new InMemorySpanExporter();
(globalThis as Record<symbol, unknown>)[spanExporterKey] = exporter;
await startTelemetry({ serviceName: 'passage-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
