// The gateway service's migration job: its login and owner roles, schema, migrations and
// grants, with DATABASE_ADMIN_URL (docs/adr/0028-database-login-roles.md). `pnpm -C services/gateway migrate`,
// or every service's in order with `pnpm migrate`; the Kubernetes migrate Job runs the same.
import { migrationJobMain } from '@passage/platform';
import { gatewayDatabases } from '../migrations/index.ts';

await migrationJobMain(gatewayDatabases);
