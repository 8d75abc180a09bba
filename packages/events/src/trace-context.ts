import { context, propagation, type Context } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';

/** The active W3C trace context (traceparent, tracestate) as a plain map, for storing in the outbox. */
export function currentTraceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

export function contextFromCarrier(carrier: Record<string, string>): Context {
  return propagation.extract(context.active(), carrier);
}

/** Writes the given context into NATS message headers. */
export function injectIntoHeaders(target: MsgHdrs, ctx: Context): void {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  for (const [key, value] of Object.entries(carrier)) target.set(key, value);
}

export function contextFromHeaders(source: MsgHdrs | undefined): Context {
  const carrier: Record<string, string> = {};
  if (source) {
    for (const key of ['traceparent', 'tracestate']) {
      const value = source.get(key);
      if (value) carrier[key] = value;
    }
  }
  return propagation.extract(context.active(), carrier);
}

export { natsHeaders };
