import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, trace } from '@opentelemetry/api';
import { createTestDatabase, finishedSpans, type TestDatabase } from '@passage/testing';
import { createLogger, databasePool, untraced, workSpan } from '../src/index.ts';

// Runs in the "tracing" project: the SDK with an in-memory exporter is started before pg loads.
const tracer = trace.getTracer('tracing-test');
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('tracing');
});

afterAll(async () => {
  await db?.drop();
});

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('log lines', () => {
  it('carry the trace and span ids of the span they are written in, and none outside a span', async () => {
    const { lines, stream } = capture();
    const log = createLogger('tracing-test', 'info', stream);
    log.info('before any span');
    const ids = await tracer.startActiveSpan('work', async (span) => {
      await Promise.resolve();
      log.info({ referralId: 'r-1' }, 'inside the span');
      span.end();
      return span.spanContext();
    });
    log.info('after the span');
    expect(lines.map((line) => line['msg'])).toEqual(['before any span', 'inside the span', 'after the span']);
    expect(lines[1]).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId, trace_flags: '01' });
    for (const outside of [lines[0]!, lines[2]!]) {
      expect(Object.keys(outside)).not.toContain('trace_id');
      expect(Object.keys(outside)).not.toContain('span_id');
    }
  });
});

describe('polling', () => {
  it('makes no span for a look that finds nothing, and a root span for work it finds', async () => {
    const pool = databasePool(db.url, { max: 1, applicationName: 'tracing-test' }, createLogger('t', 'silent'));
    try {
      await pool.query('select 1'); // connected, outside the measurement
      const before = finishedSpans().length;
      const found = await untraced(async () => {
        const { rows } = await pool.query<{ n: number }>('select 1 as untraced_look');
        return workSpan('found work', { attributes: { 'passage.items': rows.length } }, async () => {
          await pool.query('select 2 as traced_work');
          return rows.length;
        });
      });
      expect(found).toBe(1);
      const spans = finishedSpans().slice(before);
      expect(spans.length).toBeGreaterThan(0);
      const text = (s: (typeof spans)[number]) => JSON.stringify(s.attributes);
      // The look's own query: no span at all (names, not literals: SQL literals reach spans as ?).
      expect(spans.filter((s) => text(s).includes('untraced_look'))).toEqual([]);
      const work = spans.find((s) => s.name === 'found work');
      expect(work, spans.map((s) => s.name).join(', ')).toBeDefined();
      expect(work!.parentSpanContext).toBeUndefined();
      expect(work!.kind).toBe(SpanKind.INTERNAL);
      // The work's query is the work span's child: tracing is on again inside it.
      const query = spans.find((s) => text(s).includes('traced_work'));
      expect(query?.parentSpanContext?.spanId).toBe(work!.spanContext().spanId);
    } finally {
      await pool.end();
    }
  });

  it('makes the work a child of the active span when there is one, and marks it failed when it throws', async () => {
    const outer = tracer.startSpan('outer');
    const failure = await trace.getTracer('x').startActiveSpan('request', (request) =>
      workSpan('inner', {}, () => Promise.reject(new Error('boom'))).then(
        () => undefined,
        (error: unknown) => (request.end(), error),
      ),
    );
    outer.end();
    expect((failure as Error).message).toBe('boom');
    const inner = finishedSpans().find((s) => s.name === 'inner');
    const request = finishedSpans().find((s) => s.name === 'request');
    expect(inner?.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    expect(inner?.status.code).toBe(2);
  });
});
