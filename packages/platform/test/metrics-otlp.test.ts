import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '@passage/testing';
import { metrics } from '../src/index.ts';

// With OTEL_EXPORTER_OTLP_ENDPOINT set, the process's metrics are pushed over OTLP/HTTP
// (protobuf) to its /v1/metrics: here to a local collector stand-in that records what it gets.
// A file of its own: the process's metrics read the setting once, on first use.
const received: { path: string; type: string; bytes: number }[] = [];
const collector = createServer((request: IncomingMessage, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    received.push({
      path: request.url ?? '',
      type: request.headers['content-type'] ?? '',
      bytes: Buffer.concat(chunks).length,
    });
    response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', () => resolve()));
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});

afterAll(async () => {
  delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  await metrics().shutdown();
  await new Promise<void>((resolve) => collector.close(() => resolve()));
});

it('pushes the metrics over OTLP/HTTP protobuf to the endpoint’s /v1/metrics', async () => {
  metrics().add('signInLockouts');
  await metrics().flush();
  const posts = await waitFor(
    () => Promise.resolve(received),
    (r) => r.length > 0,
  );
  expect(posts[0]).toMatchObject({ path: '/v1/metrics', type: 'application/x-protobuf' });
  expect(posts[0]!.bytes).toBeGreaterThan(0);
});
