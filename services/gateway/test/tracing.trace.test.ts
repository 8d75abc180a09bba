import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { finishedSpans, waitFor } from '@passage/testing';
import { Http, startGatewayLab, type GatewayLab } from './support.ts';

// Every service in this process ("tracing" project: one SDK, an in-memory exporter), behind
// the gateway, as in gateway.test.ts. One hand-off's trace must run from the HTTP request
// through referrals and the bus into the audit log (docs/adr/0032-tracing.md).
let lab: GatewayLab;
let http: Http;
let clockReads = 0;

beforeAll(async () => {
  lab = await startGatewayLab('tracing', {}, undefined, () => {
    clockReads += 1;
    return new Date();
  });
  http = new Http(lab.gateway.url);
});

afterAll(async () => {
  await lab?.stop();
});

type ReadableSpan = ReturnType<typeof finishedSpans>[number];
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const names = (spans: readonly ReadableSpan[]): string => spans.map((s) => s.name).join(', ');
const isPg = (span: ReadableSpan): boolean => span.name.startsWith('pg') || 'db.system.name' in span.attributes;

describe('an idle network', () => {
  it('makes no span while its workers, relays and sweepers find nothing', async () => {
    // Anything still settling from the start (seeded agencies reaching their consumers) may
    // finish in the window; what must not appear is a poll's query outside any trace.
    const before = finishedSpans().length;
    const from = clockReads;
    // The escalation workers read the clock on every look (4 workers, every 250 ms): 60 looks
    // is some 4 s, in which every outbox relay has looked several times (every 1 s) and the
    // audit checkpointer's timer has ticked (every 250 ms here).
    await waitFor(
      () => Promise.resolve(clockReads - from),
      (reads) => reads >= 60,
      60_000,
    );
    const spans = finishedSpans().slice(before);
    const pollRoots = spans.filter((s) => !s.parentSpanContext && isPg(s));
    expect(pollRoots.map((s) => `${s.name} ${(s.attributes['db.query.text'] as string | undefined) ?? ''}`)).toEqual(
      [],
    );
  });
});

describe('a hand-off', () => {
  it('is one trace from the HTTP request through referrals and the bus into the audit log and escalation', async () => {
    const officer = await http.signIn('peel-officer');
    const granted = await http.json<{ subjectRef: string }>('POST', '/api/consents', {
      session: officer,
      idempotencyKey: randomUUID(),
      body: {
        method: 'CAPTURE_METHOD_VERBAL',
        language: 'en',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        scopes: [{ recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['needs'] }],
      },
    });
    expect(granted.status).toBe(201);
    // A traceparent from outside (a browser, anyone) is not continued: the gateway starts its own.
    const foreign = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    const packetText = 'Synthetic: a quiet room and a phone charger';
    const response = await http.request('POST', '/api/referrals?source=trace-test', {
      session: officer,
      idempotencyKey: randomUUID(),
      headers: { traceparent: foreign },
      body: {
        subjectRef: granted.body.subjectRef,
        fromAgency: 'peel-regional-police',
        toAgency: 'london-coalition',
        priority: 'PRIORITY_URGENT',
        needs: ['counselling'],
        language: 'en',
        packet: [{ category: 'needs', content: packetText }],
      },
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const traceparent = response.headers.get('traceparent') ?? '';
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, spanId] = traceparent.split('-');
    expect(traceId).not.toBe('ab'.repeat(16));

    // Wait for the trace's last parts: the audit log's and escalation's consumers.
    const inTrace = await waitFor(
      () => Promise.resolve(finishedSpans().filter((s) => s.spanContext().traceId === traceId)),
      (spans) =>
        spans.some((s) => s.name === 'audit append') &&
        spans.some(
          (s) =>
            s.kind === SpanKind.CONSUMER && s.attributes['messaging.consumer.group.name'] === 'escalation-referrals',
        ),
      60_000,
    );
    expect(inTrace.length).toBeGreaterThan(0);

    // The gateway's HTTP server span: the route template, the status, nothing of the URL.
    const server = inTrace.find((s) => s.spanContext().spanId === spanId);
    expect(server, names(inTrace)).toMatchObject({ name: 'POST /api/referrals', kind: SpanKind.SERVER });
    expect(server!.parentSpanContext).toBeUndefined();
    expect(server!.attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/api/referrals',
      'http.response.status_code': 201,
    });

    // Its gRPC call to referrals is its child, and the referrals server span that call's.
    const send = inTrace.find((s) => s.kind === SpanKind.CLIENT && s.name.endsWith('ReferralService/Send'));
    expect(send, names(inTrace)).toBeDefined();
    expect(parentOf(send!)).toBe(spanId);
    const sendServer = inTrace.find((s) => s.kind === SpanKind.SERVER && s.name.endsWith('ReferralService/Send'));
    expect(parentOf(sendServer!)).toBe(send!.spanContext().spanId);

    // Across the bus: the relay's publish of referral …sent, the audit service's consumer span
    // under it, and the append (with its database work) under that.
    const publish = inTrace.find((s) => s.kind === SpanKind.PRODUCER && /^publish .*\.sent$/.test(s.name));
    expect(publish, names(inTrace)).toBeDefined();
    const audited = inTrace.find(
      (s) =>
        s.kind === SpanKind.CONSUMER &&
        s.attributes['messaging.consumer.group.name'] === 'audit' &&
        parentOf(s) === publish!.spanContext().spanId,
    );
    expect(audited, names(inTrace)).toBeDefined();
    const append = inTrace.find((s) => s.name === 'audit append' && parentOf(s) === audited!.spanContext().spanId);
    expect(append, names(inTrace)).toBeDefined();
    expect(append!.links.map((l) => l.context.spanId)).toContain(audited!.spanContext().spanId);
    const appendWork = inTrace.filter((s) => parentOf(s) === append!.spanContext().spanId && isPg(s));
    expect(appendWork.length, names(inTrace)).toBeGreaterThan(0);
    const escalationConsumer = inTrace.find(
      (s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.consumer.group.name'] === 'escalation-referrals',
    );
    expect(parentOf(escalationConsumer!)).toBe(publish!.spanContext().spanId);

    // No personal data, query string or body reached any span.
    const everything = JSON.stringify(inTrace.map((s) => [s.name, s.attributes]));
    expect(everything).not.toContain(packetText);
    expect(everything).not.toContain('source=trace-test');
    expect(everything).not.toContain(granted.body.subjectRef);
  });
});

describe('HTTP server spans', () => {
  it('names the span of a route no one declared by its method alone, with nothing of its path', async () => {
    const response = await http.request('GET', `/api/no-such-route/${randomUUID()}`);
    expect(response.status).toBe(404);
    const [, traceId, spanId] = (response.headers.get('traceparent') ?? '').split('-');
    const span = await waitFor(
      () => Promise.resolve(finishedSpans().find((s) => s.spanContext().spanId === spanId)),
      (found) => found !== undefined,
    );
    expect(span!.spanContext().traceId).toBe(traceId);
    expect(span).toMatchObject({ name: 'GET', attributes: { 'http.response.status_code': 404 } });
    expect(JSON.stringify(span!.attributes)).not.toContain('no-such-route');
  });

  it('traces no probe', async () => {
    const before = finishedSpans().length;
    for (const path of ['/livez', '/readyz']) {
      const response = await http.request('GET', path);
      expect(response.status).toBe(200);
      expect(response.headers.get('traceparent')).toBeNull();
    }
    // A request after them is traced; nothing before it came from the probes.
    const response = await http.request('GET', '/api/openapi.json');
    const [, , spanId] = (response.headers.get('traceparent') ?? '').split('-');
    const spans = await waitFor(
      () => Promise.resolve(finishedSpans().slice(before)),
      (seen) => seen.some((s) => s.spanContext().spanId === spanId),
    );
    expect(spans.filter((s) => s.kind === SpanKind.SERVER).map((s) => s.name)).toEqual(['GET /api/openapi.json']);
  });
});
