import { demoUsers, developmentIssuer } from '@passage/auth';
import { createLogger, loadConfig } from '@passage/platform';
import { migratedTemplate } from '@passage/platform/testing';
import { createTestDatabase, createTestNats, type TestDatabase, type TestNats } from '@passage/testing';
import { directoryDatabases } from '../migrations/index.ts';
import { directoryConfigSchema } from '../src/config.ts';
import { startDirectory, type RunningDirectory } from '../src/service.ts';

/** A signed caller token of the demo administrator (the development key; the test runs in development). */
export const testAdminToken = developmentIssuer().issue(demoUsers['admin']!, 3600);

export interface TestDirectory {
  readonly db: TestDatabase;
  readonly nats: TestNats;
  readonly service: RunningDirectory;
  stop(): Promise<void>;
}

/**
 * The real directory service, in this process, on its own database and NATS namespace; in
 * development (its admin token is the development key's), so gRPC is plaintext unless the
 * test gives GRPC_TLS_* settings.
 */
export async function startTestDirectory(label: string, env: Record<string, string> = {}): Promise<TestDirectory> {
  // Its schema already migrated (a copy of a template database): its job at start finds nothing to do.
  const db = await createTestDatabase(label, { template: migratedTemplate([directoryDatabases]) });
  const nats = await createTestNats(label);
  const config = loadConfig(directoryConfigSchema, {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    NATS_NAMESPACE: nats.namespace,
    GRPC_PORT: '0',
    PASSAGE_ENV: 'development',
    ...env,
  });
  const service = await startDirectory(config, createLogger(`${label}-test`, 'silent'));
  return {
    db,
    nats,
    service,
    async stop() {
      await service.shutdown.run();
      await nats.cleanup();
      await db.drop();
    },
  };
}
