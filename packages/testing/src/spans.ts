import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace';

export const spanExporterKey = Symbol.for('passage.test.spanExporter');

/** Spans finished so far in this process; only in the tracing test project (see packages/platform/test/otel-register.ts). */
export function finishedSpans(): ReadableSpan[] {
  const exporter = (globalThis as Record<symbol, unknown>)[spanExporterKey] as InMemorySpanExporter | undefined;
  if (!exporter) throw new Error('no in-memory span exporter: run this file in the "tracing" vitest project');
  return exporter.getFinishedSpans();
}
