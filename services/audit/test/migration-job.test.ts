import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger, loadConfig, migrateServiceDatabases, withLogin, type ServiceDatabases } from '@passage/platform';
import { healthStatus, sparePort, waitUntil } from '@passage/testing';
import { auditDatabases } from '../migrations/index.ts';
import { auditConfigSchema } from '../src/config.ts';
import { startAudit, type RunningAudit } from '../src/service.ts';
import { startAuditLab, type AuditLab } from './support.ts';

// docs/adr/0028-database-login-roles.md: a service logged in as its runtime role creates
// nothing; started before the migration job has brought its schema to this build, it waits,
// NOT_SERVING, saying what to run, and serves once the job has run.
let lab: AuditLab;
let audit: RunningAudit | undefined;

beforeAll(async () => {
  lab = await startAuditLab('migrationjob', { service: false });
});

afterAll(async () => {
  await audit?.shutdown.run();
  await lab?.stop();
});

it('waits NOT_SERVING while the database is behind this build, and serves once the migration job has run', async () => {
  // The schema as an older build's job left it: the first migration only.
  const plan = auditDatabases.schemas[0]!;
  const older: ServiceDatabases = { service: 'audit', schemas: [{ ...plan, migrations: plan.migrations.slice(0, 1) }] };
  await migrateServiceDatabases(older, { admin: { data: lab.db.url } });

  const lines: string[] = [];
  const log = createLogger('audit', 'warn', { write: (line: string) => void lines.push(line) });
  const port = await sparePort();
  const config = loadConfig(auditConfigSchema, {
    ...lab.env,
    // The runtime login itself, as in a deployment: nothing for it to provision, even in development.
    DATABASE_URL: withLogin(lab.db.url, 'passage_audit'),
    GRPC_PORT: String(port),
  });
  const starting = startAudit(config, log);
  const waiting = new RegExp(
    'schema audit: database is at migration Migration20261128210000AuditLog, ' +
      'this build needs Migration20261203060000ReferralReference: run the migration job \\(`pnpm migrate` / the migrate Job\\)',
  );
  await waitUntil(() => Promise.resolve(lines.some((line) => waiting.test(line))));
  expect(await healthStatus(`127.0.0.1:${port}`, '', lab.credentials)).toBe('NOT_SERVING');
  expect(await lab.entries()).toBe(0);

  const [report] = await migrateServiceDatabases(auditDatabases, { admin: { data: lab.db.url } });
  expect(report?.applied).toEqual([
    'Migration20261130070000AuditStreamGaps',
    'Migration20261202070000LoopClosure',
    'Migration20261203060000ReferralReference',
  ]);
  audit = await starting;
  await waitUntil(async () => (await healthStatus(`127.0.0.1:${port}`, '', lab.credentials)) === 'SERVING');
  expect(lines.filter((line) => waiting.test(line)).length).toBeGreaterThan(0);
});
