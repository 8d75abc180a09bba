import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenIssuer } from '@passage/auth';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  createTestNats,
  healthStatus,
  reflectedServices,
  runScript,
  sparePort,
  type ScriptProcess,
  type TestDatabase,
  type TestNats,
} from '@passage/testing';

// The directory as `pnpm start` runs it: its own process, its real main.ts.
const directoryDir = fileURLToPath(new URL('../../services/directory/', import.meta.url));

let db: TestDatabase;
let nats: TestNats;
let directory: ScriptProcess;
let address: string;

beforeAll(async () => {
  db = await createTestDatabase('process');
  nats = await createTestNats('process');
  const port = await sparePort();
  address = `127.0.0.1:${port}`;
  directory = runScript(
    'src/main.ts',
    {
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: nats.namespace,
      GRPC_PORT: String(port),
      DIRECTORY_SEED: 'ontario',
      // Development for the database (it provisions its schema with this superuser URL, ADR 28); a
      // change still needs a caller token these keys verify.
      PASSAGE_ENV: 'development',
      AUTH_PUBLIC_KEYS: new TokenIssuer('test', randomBytes(32)).publicKeySetting,
      LOG_LEVEL: 'info',
    },
    { cwd: directoryDir, nodeArgs: ['--import', '@passage/platform/instrument'] },
  );
  await directory.waitForLine(/"msg":"directory ready"/);
});

afterAll(async () => {
  await directory?.kill();
  await nats?.cleanup();
  await db?.drop();
});

it('serves health and reflection, then shuts down gracefully on SIGTERM', async () => {
  expect(await healthStatus(address)).toBe('SERVING');
  expect(await reflectedServices(address)).toContain('passage.directory.v1.DirectoryService');

  directory.child.kill('SIGTERM');
  const { code } = await directory.exited();
  expect(code).toBe(0);
  const summary = directory
    .output()
    .split('\n')
    .find((line) => line.includes('"msg":"shutdown complete"'));
  expect((JSON.parse(summary ?? '{}') as { steps?: string[] }).steps, directory.output()).toEqual([
    'grpc server',
    'outbox relay',
    'nats',
    'database',
  ]);
});
