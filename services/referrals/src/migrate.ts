// The referrals service's migration job: its login and owner roles, schemas, migrations and
// grants, with DATABASE_ADMIN_URL (docs/adr/0028-database-login-roles.md). `pnpm -C services/referrals migrate`,
// or every service's in order with `pnpm migrate`; the Kubernetes migrate Job runs the same.
import { migrationJobMain } from '@passage/platform';
import { referralsDatabases } from '../migrations/index.ts';

await migrationJobMain(referralsDatabases);
