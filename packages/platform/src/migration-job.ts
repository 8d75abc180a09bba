import { z } from 'zod';
import { ConfigError, databaseUrlSetting, loadConfig } from './config.ts';
import { checkDatabaseUrl } from './db.ts';
import {
  BootstrapError,
  migrateServiceDatabases,
  runtimePasswordSetting,
  type SchemaReport,
  type ServiceDatabases,
} from './db-roles.ts';
import { createLogger } from './logger.ts';
import { untilAvailable } from './retry.ts';

const defaultDevelopmentUrl = 'postgres://postgres@localhost:5432/passage';

/**
 * A service's migration job (`node src/migrate.ts`, `pnpm migrate` for all, the Kubernetes
 * migrate Job): provisions its roles, schemas, migrations and grants (migrateServiceDatabases)
 * with an admin login, then exits. Settings:
 *
 * - `DATABASE_ADMIN_URL`: a role with CREATEROLE and CREATE on the database (a superuser in
 *   development). Required outside development; there it defaults to DATABASE_URL.
 * - `KEYSTORE_DATABASE_ADMIN_URL`: the same for the key stores' database, if apart;
 *   DATABASE_ADMIN_URL otherwise.
 * - `<SCHEMA>_DATABASE_PASSWORD` (AUDIT_…, CONSENT_KEYS_…): a runtime role's password; none
 *   for trust or client-certificate authentication. `_FILE` variants read it from a file.
 * - `PASSAGE_ENV`, `LOG_LEVEL`.
 *
 * Outside development every admin URL must use TLS with sslmode=verify-full or verify-ca.
 */
export async function runMigrationJob(
  databases: ServiceDatabases,
  env: Record<string, string | undefined> = process.env,
): Promise<SchemaReport[]> {
  const passwords = Object.fromEntries(
    databases.schemas.map((plan) => [runtimePasswordSetting(plan.schema), z.string().min(1).optional()]),
  );
  const config = loadConfig(
    z.object({
      PASSAGE_ENV: z.enum(['development', 'production']).default('production'),
      DATABASE_ADMIN_URL: databaseUrlSetting.optional(),
      KEYSTORE_DATABASE_ADMIN_URL: databaseUrlSetting.optional(),
      DATABASE_URL: databaseUrlSetting.optional(),
      LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      ...passwords,
    }),
    env,
  );
  const development = config.PASSAGE_ENV === 'development';
  const data = config.DATABASE_ADMIN_URL ?? (development ? (config.DATABASE_URL ?? defaultDevelopmentUrl) : undefined);
  if (!data) {
    throw new ConfigError([
      'DATABASE_ADMIN_URL is required outside development: a role with CREATEROLE and CREATE on the database, ' +
        'over TLS (postgres://passage_admin@host/passage?sslmode=verify-full&sslrootcert=…)',
    ]);
  }
  checkDatabaseUrl(config.DATABASE_ADMIN_URL ? 'DATABASE_ADMIN_URL' : 'DATABASE_URL', data, config.PASSAGE_ENV);
  const keys = config.KEYSTORE_DATABASE_ADMIN_URL ?? data;
  if (config.KEYSTORE_DATABASE_ADMIN_URL) checkDatabaseUrl('KEYSTORE_DATABASE_ADMIN_URL', keys, config.PASSAGE_ENV);
  const log = createLogger(`${databases.service}-migrate`, config.LOG_LEVEL);
  const settings = config as Record<string, unknown>;
  const reports = await untilAvailable(
    'Postgres',
    () =>
      migrateServiceDatabases(databases, {
        admin: { data, keys },
        password: (schema) => settings[runtimePasswordSetting(schema)] as string | undefined,
        log,
      }),
    log,
  );
  for (const report of reports) {
    log.info(
      { schema: report.schema, applied: report.applied, changes: report.changes },
      report.applied.length + report.changes.length === 0 ? 'already in place' : 'provisioned',
    );
  }
  return reports;
}

/**
 * For a service's `src/migrate.ts`: runs the job and ends the process — 0 when done, 1 with
 * one line saying what to fix when a setting or the admin login is wrong.
 */
export async function migrationJobMain(databases: ServiceDatabases): Promise<void> {
  try {
    await runMigrationJob(databases);
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof BootstrapError;
    if (known) console.error(`${databases.service} migration job: ${error.message}`);
    else console.error(`${databases.service} migration job failed:`, error);
    process.exitCode = 1;
  }
}
