import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenIssuer } from '@passage/auth';
import { directory as pb } from '@passage/contracts';
import { callUnary } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import {
  createTestDatabase,
  createTestNats,
  runScript,
  sparePort,
  type ScriptProcess,
  type TestDatabase,
  type TestNats,
} from '@passage/testing';

// The directory as `pnpm start` runs it (its own process, its real main.ts, telemetry loaded
// with --import), exporting to an OTLP/HTTP receiver this test runs. The batch processor
// exports every 5 s, so a span ended just before SIGTERM reaches the receiver only if the
// shutdown flushes it (docs/adr/0032-tracing.md).
const directoryDir = fileURLToPath(new URL('../../services/directory/', import.meta.url));

let db: TestDatabase;
let nats: TestNats;
let receiver: Server;
let directory: ScriptProcess | undefined;
const exports: Buffer[] = [];

beforeAll(async () => {
  db = await createTestDatabase('otlpflush');
  nats = await createTestNats('otlpflush');
  // OTLP/HTTP with protobuf bodies: POST /v1/traces, answered by an empty ExportTraceServiceResponse.
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (request.method === 'POST' && request.url === '/v1/traces') {
        exports.push(request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await directory?.kill();
  await new Promise((resolve) => receiver?.close(resolve));
  await nats?.cleanup();
  await db?.drop();
});

it('exports the spans of a call answered just before SIGTERM, before the process exits', async () => {
  const port = await sparePort();
  const { port: otlpPort } = receiver.address() as { port: number };
  directory = runScript(
    'src/main.ts',
    {
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: nats.namespace,
      GRPC_PORT: String(port),
      PASSAGE_ENV: 'development',
      AUTH_PUBLIC_KEYS: new TokenIssuer('test', randomBytes(32)).publicKeySetting,
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
      OTEL_SERVICE_NAME: 'directory',
      ...testTls('directory').env,
    },
    { cwd: directoryDir, nodeArgs: ['--import', '@passage/platform/instrument'] },
  );
  await directory.waitForLine(/"msg":"directory ready"/, 60_000);

  const client = new pb.DirectoryServiceClient(`127.0.0.1:${port}`, testTls().clientCredentials);
  try {
    await callUnary(client.listAgencies.bind(client), { kind: '', region: '', service: '', language: '' });
  } finally {
    client.close();
  }
  const exportedBefore = exports.length;
  directory.child.kill('SIGTERM');
  expect(await directory.exited()).toEqual({ code: 0, signal: null });

  // Received before the exit: the flush sent what the batch processor still held.
  const received = Buffer.concat(exports.slice(exportedBefore));
  expect(received.length).toBeGreaterThan(0);
  expect(received.includes('passage.directory.v1.DirectoryService/ListAgencies')).toBe(true);
  // The service's name is on the exported resource.
  expect(received.includes('directory')).toBe(true);
  // Lines written outside any span carry no trace ids.
  const summary = directory
    .output()
    .split('\n')
    .find((line) => line.includes('"msg":"shutdown complete"'));
  expect(summary, directory.output()).toBeDefined();
  expect(summary).not.toContain('trace_id');
});
