// `pnpm migrate`: every service's migration job, one after the other, in the order the
// services depend on each other (docs/adr/0028-database-login-roles.md). Each creates or
// mends its login and owner roles and schemas, applies its migrations as the owner and grants
// its runtime role what it declares; running it again changes nothing. Settings as each job
// reads them: DATABASE_ADMIN_URL (in development, DATABASE_URL or the localhost default),
// KEYSTORE_DATABASE_ADMIN_URL, <SCHEMA>_DATABASE_PASSWORD, PASSAGE_ENV. Stops at the first
// job that fails, with its exit code.
import { spawnSync } from 'node:child_process';

const services = ['directory', 'consent', 'referrals', 'audit', 'escalation', 'gateway'];

for (const service of services) {
  const result = spawnSync(process.execPath, ['src/migrate.ts'], {
    cwd: new URL(`../services/${service}/`, import.meta.url),
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(`pnpm migrate: the ${service} migration job failed; the jobs after it did not run`);
    process.exit(result.status ?? 1);
  }
}
