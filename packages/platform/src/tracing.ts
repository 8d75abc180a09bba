import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  trace,
  type Attributes,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import { ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';

// Tracing helpers shared by the services (docs/adr/0032-tracing.md). telemetry.ts imports this
// before the instrumentations are in place, so it must never import pg or grpc-js (nor config.ts,
// which loads pg). No personal data goes
// into a span name or attribute given here: ids, codes, subjects and counts only (ADR 9).

const tracer = trace.getTracer('@passage/platform');

/** Without OTEL_TRACES_SAMPLER_ARG: every trace a root starts is kept (ADR 32 says why). */
export const defaultSampleRatio = 1;

/**
 * The one sampler Passage runs: parent-based, so a trace is kept or dropped as a whole, and a
 * root keeps the ratio given by the standard OTEL_TRACES_SAMPLER_ARG. OTEL_TRACES_SAMPLER may
 * be unset or `parentbased_traceidratio`; any other sampler would cut traces across services,
 * so it stops the start, naming the setting.
 */
export function samplerFromEnv(env: Readonly<Record<string, string | undefined>>): {
  sampler: Sampler;
  ratio: number;
} {
  const name = env['OTEL_TRACES_SAMPLER']?.trim();
  if (name && name !== 'parentbased_traceidratio') {
    throw new Error(
      `OTEL_TRACES_SAMPLER: only parentbased_traceidratio (the default) is supported, not "${name}"; set the ratio with OTEL_TRACES_SAMPLER_ARG`,
    );
  }
  const arg = env['OTEL_TRACES_SAMPLER_ARG']?.trim();
  const ratio = arg ? Number(arg) : defaultSampleRatio;
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new Error(`OTEL_TRACES_SAMPLER_ARG: a number from 0 to 1 (the share of traces kept), not "${arg}"`);
  }
  return { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }), ratio };
}

/**
 * Runs a poll's look for work with tracing suppressed: the queries of a look that finds
 * nothing make no span. Work it finds starts its own trace with `workSpan`.
 */
export function untraced<T>(run: () => T): T {
  return context.with(suppressTracing(context.active()), run);
}

export interface WorkSpanOptions {
  readonly attributes?: Attributes;
  readonly kind?: SpanKind;
  readonly links?: Link[];
}

/**
 * Runs `work` in a span of its own. Inside `untraced` (a poll that found work) the span is
 * the root of a new trace and tracing is on again for what it does; elsewhere it is a child
 * of the active span. The span records an error when `work` throws.
 */
export async function workSpan<T>(
  name: string,
  options: WorkSpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = isTracingSuppressed(context.active()) ? ROOT_CONTEXT : context.active();
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {}, links: options.links ?? [] },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * For every log line (pino `mixin`): the trace and span ids of the span active where the line
 * is written, so a line can be found from its trace and the reverse; nothing outside a span.
 */
export function activeTraceFields(): { trace_id?: string; span_id?: string; trace_flags?: string } {
  const spanContext = trace.getSpanContext(context.active());
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: spanContext.traceFlags.toString(16).padStart(2, '0'),
  };
}

interface Stoppable {
  shutdown(): Promise<void>;
}

let running: Stoppable | undefined;

/** Called by `startTelemetry`: what `stopTelemetry` flushes and shuts down. */
export function telemetryStarted(sdk: Stoppable): void {
  running = sdk;
}

/**
 * Exports the spans still buffered, then shuts the SDK down: the last step before a service
 * exits (`Shutdown.onSignals`). Without telemetry it does nothing.
 */
export async function stopTelemetry(): Promise<void> {
  const sdk = running;
  if (!sdk) return;
  running = undefined;
  const provider = trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } };
  await provider.getDelegate?.().forceFlush?.();
  await sdk.shutdown();
}
