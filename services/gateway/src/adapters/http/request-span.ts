import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Span,
} from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { probePaths, untraced } from '@passage/platform';

const tracer = trace.getTracer('@passage/gateway');
const spans = new WeakMap<IncomingMessage, Span>();

/**
 * A Fastify `serverFactory`: every request runs in an HTTP server span of its own, so the
 * gRPC calls and queries it makes are its children, and the answer carries `traceparent`
 * naming it. The span always starts a new trace: an incoming `traceparent` comes from the
 * browser or anyone on the internet, and is not continued (docs/adr/0032-tracing.md).
 * It is named `METHOD /route/:template` once routed and holds only the method, the route
 * template and the status: never the path, the query string, headers or bodies.
 */
export function tracedServerFactory(handler: RequestListener): Server {
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    // Probes (every few seconds, from the kubelet) are no work: no span, as idle polls make none.
    const path = (request.url ?? '').split('?')[0] ?? '';
    if ((probePaths as readonly string[]).includes(path)) {
      untraced(() => handler(request, response));
      return;
    }
    const method = methodOf(request);
    const span = tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
      ROOT_CONTEXT,
    );
    const active = trace.setSpan(ROOT_CONTEXT, span);
    spans.set(request, span);
    if (isSpanContextValid(span.spanContext())) {
      const carrier: Record<string, string> = {};
      propagation.inject(active, carrier);
      if (carrier['traceparent']) response.setHeader('traceparent', carrier['traceparent']);
    }
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      const status = response.statusCode;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    response.once('finish', end);
    response.once('close', end);
    // The request's and response's events (a body arriving, the connection closing) run in the span too.
    context.bind(active, request);
    context.bind(active, response);
    context.with(active, () => handler(request, response));
  });
}

/** Names each request's span after the route it matched, once Fastify has routed it. */
export function nameRequestSpans(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const span = spans.get(request.raw);
    // A request no route took has none; nor has one the console's catch-all took ("/*": its
    // files, its page, and any unknown path it hands on to the not-found answer).
    const route = request.is404 || request.routeOptions.url === '/*' ? undefined : request.routeOptions.url;
    if (span && route) {
      span.setAttribute('http.route', route);
      span.updateName(`${methodOf(request.raw)} ${route}`);
    }
    done();
  });
}

const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

function methodOf(request: IncomingMessage): string {
  const method = request.method ?? '';
  return knownMethods.has(method) ? method : '_OTHER';
}
