import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenIssuer } from '@passage/auth';
import { fileURLToPath } from 'node:url';
import { testTls } from '@passage/platform/testing';
import {
  createTestDatabase,
  healthStatus,
  reflectedServices,
  runScript,
  sparePort,
  type ScriptProcess,
  type TestDatabase,
} from '@passage/testing';
import { startServicesNats, type ServicesNats } from './secure-nats.ts';

// The directory as `pnpm start` runs it: its own process, its real main.ts.
const directoryDir = fileURLToPath(new URL('../../services/directory/', import.meta.url));

let db: TestDatabase;
let nats: ServicesNats;
let directory: ScriptProcess;
let address: string;
let settings: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('process');
  // NATS over TLS as the directory's own user, and gRPC over mutual TLS, as deployed.
  nats = await startServicesNats();
  const port = await sparePort();
  address = `127.0.0.1:${port}`;
  settings = {
    DATABASE_URL: db.url,
    ...nats.env('directory'),
    GRPC_PORT: String(port),
    DIRECTORY_SEED: 'ontario',
    // Development for the database alone (given this superuser URL it provisions its own schema,
    // ADR 28); TLS is used because its settings are given, and a change still needs a caller
    // token these keys verify.
    PASSAGE_ENV: 'development',
    AUTH_PUBLIC_KEYS: new TokenIssuer('test', randomBytes(32)).publicKeySetting,
    LOG_LEVEL: 'info',
  };
  directory = runScript(
    'src/main.ts',
    { ...settings, ...testTls('directory').env },
    { cwd: directoryDir, nodeArgs: ['--import', '@passage/platform/instrument'] },
  );
  await directory.waitForLine(/"msg":"directory ready"/);
});

afterAll(async () => {
  await directory?.kill();
  await nats?.dispose();
  await db?.drop();
});

it('serves health and reflection, then shuts down gracefully on SIGTERM', async () => {
  const { clientCredentials } = testTls();
  expect(await healthStatus(address, '', clientCredentials)).toBe('SERVING');
  expect(await reflectedServices(address, clientCredentials)).toContain('passage.directory.v1.DirectoryService');

  directory.child.kill('SIGTERM');
  const { code } = await directory.exited();
  expect(code).toBe(0);
  const summary = directory
    .output()
    .split('\n')
    .find((line) => line.includes('"msg":"shutdown complete"'));
  expect((JSON.parse(summary ?? '{}') as { steps?: string[] }).steps, directory.output()).toEqual([
    'grpc server',
    'dependency checks',
    'outbox relay',
    'nats',
    'database',
  ]);
});

it('refuses to start in production without its certificate, or with a key that is not its own, in one line', async () => {
  const { env } = testTls('directory');
  for (const [given, line] of [
    [{}, 'GRPC_TLS_CA, GRPC_TLS_CERT, GRPC_TLS_KEY: not set — outside PASSAGE_ENV=development'],
    [
      { ...env, GRPC_TLS_KEY_FILE: testTls('consent').env.GRPC_TLS_KEY_FILE },
      'GRPC_TLS_KEY: the key does not belong to the certificate in GRPC_TLS_CERT',
    ],
  ] as const) {
    const refused = runScript(
      'src/main.ts',
      { ...settings, PASSAGE_ENV: 'production', GRPC_PORT: String(await sparePort()), ...given },
      {
        cwd: directoryDir,
      },
    );
    const { code } = await refused.exited();
    expect(code).not.toBe(0);
    expect(refused.output()).toContain(line);
    expect(refused.output()).not.toContain('directory ready');
  }
});
