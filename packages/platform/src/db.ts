import pg from 'pg';
import { ConfigError } from './config.ts';
import {
  databaseClient,
  databaseClientClass,
  parseDatabaseUrl,
  sslOptions,
  withLogin,
  type DatabaseUrl,
} from './database-url.ts';
import { migrateServiceDatabases, runtimeRole, type SchemaPlan, type ServiceDatabases } from './db-roles.ts';
import type { Logger } from './logger.ts';
import { DatabaseNotReadyError, checkMigrations, runTheJob } from './orm.ts';

/** The service cannot log in as its own runtime role: it refuses to run rather than run as another. */
export class DatabaseRoleError extends Error {
  constructor(setting: string, reason: string) {
    super(`${setting}: ${reason} (docs/adr/0028-database-login-roles.md)`);
    this.name = 'DatabaseRoleError';
  }
}

/**
 * Outside development, Postgres is reached over TLS with the server's certificate checked
 * (sslmode=verify-full, or verify-ca); and the files a URL names must be readable. A
 * ConfigError naming the setting otherwise.
 */
export function checkDatabaseUrl(setting: string, url: string, env: string | undefined): void {
  let parsed: DatabaseUrl;
  try {
    parsed = parseDatabaseUrl(url);
    sslOptions(parsed);
  } catch (error) {
    throw new ConfigError([`${setting}: ${(error as Error).message}`]);
  }
  if (env !== 'development' && parsed.sslmode !== 'verify-full' && parsed.sslmode !== 'verify-ca') {
    throw new ConfigError([
      `${setting}: outside development Postgres is reached over TLS: add sslmode=verify-full&sslrootcert=<CA file> ` +
        `to the URL (sslmode is ${parsed.params.get('sslmode') ?? 'not set'}; PASSAGE_ENV=development allows plaintext)`,
    ]);
  }
}

export interface PoolOptions {
  readonly max: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName?: string;
}

/**
 * A pg pool whose lost connections are logged, never thrown: without an `error` listener, a
 * restarted Postgres or a terminated backend ends the process. The call using a lost
 * connection fails and the next one gets a fresh connection (on the primary of the moment,
 * with a multi-host URL).
 */
export function databasePool(url: string, options: PoolOptions, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    Client: databaseClientClass(url) as unknown as new () => pg.ClientBase,
    max: options.max,
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', (error) => log.warn({ err: error }, 'an idle database connection was lost'));
  // A connection lost while checked out (in a transaction, or between a worker's queries) emits
  // on the client, not the pool: the query in flight fails, the process goes on.
  pool.on('connect', (client) => {
    client.on('error', (error) => log.warn({ err: error }, 'a database connection in use was lost'));
  });
  return pool;
}

interface LoginRow {
  me: string;
  superuser: boolean;
  createrole: boolean;
  member_of: string[];
  schema_owner: string | null;
  usage: boolean | null;
}

/**
 * Checks, as the service will connect, that the login is the schema's runtime role and no
 * more: not a superuser, unable to create roles, a member of no role (so no SET ROLE to the
 * owner or anyone), owner of nothing in its schema; and that the schema, its migrations and
 * its grants are in place. A login that could do more is refused (DatabaseRoleError); what
 * the migration job has yet to make is waited for (DatabaseNotReadyError).
 */
export async function checkServiceLogin(url: string, plan: SchemaPlan, setting: string): Promise<void> {
  const expected = runtimeRole(plan.schema);
  const client = databaseClient(url, { application_name: `${expected}-check`, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '28P01' || code === '28000') {
      throw new DatabaseNotReadyError(
        `${setting}: cannot log in as ${parseDatabaseUrl(url).user} (${(error as Error).message}): the migration job ` +
          `creates the login role ${expected}; if it has run, check the password in ${setting}`,
        { cause: error },
      );
    }
    throw error;
  }
  try {
    const { rows } = await client.query<LoginRow>(
      `select current_user as me, r.rolsuper as superuser, r.rolcreaterole as createrole,
              array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid
                     where m.member = r.oid order by 1) as member_of,
              (select pg_get_userbyid(nspowner) from pg_namespace where nspname = $1) as schema_owner,
              case when to_regnamespace($2) is null then null else has_schema_privilege($1, 'USAGE') end as usage
         from pg_roles r where r.rolname = current_user`,
      [plan.schema, `"${plan.schema}"`],
    );
    const row = rows[0]!;
    const fix = `log in as ${expected}, the login role the migration job creates (DATABASE_ADMIN_URL is for the job alone)`;
    if (row.superuser) throw new DatabaseRoleError(setting, `logs in as ${row.me}, a superuser: ${fix}`);
    if (row.createrole) throw new DatabaseRoleError(setting, `logs in as ${row.me}, which may create roles: ${fix}`);
    if (row.me !== expected) throw new DatabaseRoleError(setting, `logs in as ${row.me}: ${fix}`);
    if (row.member_of.length > 0) {
      throw new DatabaseRoleError(
        setting,
        `${row.me} is a member of ${row.member_of.join(', ')} and could SET ROLE to it: ` +
          `revoke the membership (${runTheJob} does)`,
      );
    }
    if (row.schema_owner === row.me) {
      throw new DatabaseRoleError(
        setting,
        `${row.me} owns schema ${plan.schema} and could grant itself anything: ${runTheJob}`,
      );
    }
    if (row.schema_owner === null)
      throw new DatabaseNotReadyError(`${setting}: no schema ${plan.schema}: ${runTheJob}`);
    if (!row.usage)
      throw new DatabaseNotReadyError(`${setting}: ${row.me} has no USAGE on schema ${plan.schema}: ${runTheJob}`);
    await checkMigrations(
      async (sql) => (await client.query<{ name: string }>(sql)).rows,
      plan.schema,
      plan.migrations,
    );
    const wanted = Object.entries(plan.grants).flatMap(([table, privileges]) => privileges.map((p) => [table, p]));
    const { rows: lacking } = await client.query<{ missing: string }>(
      `select w.privilege || ' on ' || w.tab as missing
         from unnest($1::text[], $2::text[]) as w(tab, privilege)
        where not coalesce(has_table_privilege(to_regclass(format('%I.%I', $3::text, w.tab)), w.privilege), false)`,
      [wanted.map(([table]) => table), wanted.map(([, privilege]) => privilege), plan.schema],
    );
    const missing = lacking.map((row) => row.missing);
    if (missing.length > 0) {
      throw new DatabaseNotReadyError(
        `${setting}: ${row.me} lacks ${missing.join(', ')} in ${plan.schema}: ${runTheJob}`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface ServiceLoginOptions {
  readonly databases: ServiceDatabases;
  /** DATABASE_URL, and KEYSTORE_DATABASE_URL for a key store's schema when set. */
  readonly urls: { readonly data?: string | undefined; readonly keys?: string | undefined };
  /** PASSAGE_ENV. */
  readonly env: string | undefined;
  readonly log: Logger;
}

/** The login each of a service's schemas is reached with. */
export interface ServiceLogins {
  url(schema: string): string;
}

async function isAdmin(url: string): Promise<boolean> {
  const client = databaseClient(url, { connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ admin: boolean }>(
      'select rolsuper or rolcreaterole as admin from pg_roles where rolname = current_user',
    );
    return rows[0]?.admin === true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The URLs a service connects with, one per schema. Outside development: DATABASE_URL (and
 * KEYSTORE_DATABASE_URL, required then for a key store) as given, over TLS (ConfigError
 * otherwise); the service never creates roles or schemas nor runs migrations. In development
 * only, given an admin login (a superuser, or a role with CREATEROLE), it runs its own
 * migration job first (migrateServiceDatabases) and then logs in as each schema's runtime
 * role — without a password, as trust authentication on localhost allows, or with the admin
 * URL's password, which the job gives the runtime roles then. Each URL is then to be checked
 * with checkServiceLogin.
 */
export async function serviceLogins(options: ServiceLoginOptions): Promise<ServiceLogins> {
  const { databases, urls, env, log } = options;
  const needsData = databases.schemas.some((plan) => plan.database !== 'keys');
  const keysPlan = databases.schemas.find((plan) => plan.database === 'keys');
  if (needsData && !urls.data) throw new ConfigError(['DATABASE_URL is required']);
  if (urls.data) checkDatabaseUrl('DATABASE_URL', urls.data, env);
  if (urls.keys) checkDatabaseUrl('KEYSTORE_DATABASE_URL', urls.keys, env);
  if (keysPlan && !urls.keys && env !== 'development') {
    throw new ConfigError([
      `KEYSTORE_DATABASE_URL is required outside development: the key store's own login ` +
        `(postgres://${runtimeRole(keysPlan.schema)}@…)`,
    ]);
  }
  const given = { data: urls.data ?? urls.keys ?? '', keys: urls.keys ?? urls.data ?? '' };
  const password = (url: string) => parseDatabaseUrl(url).password;
  const urlOf = (plan: SchemaPlan) => (plan.database === 'keys' ? given.keys : given.data);
  let switched = false;
  if (env === 'development') {
    const admins = await Promise.all([needsData ? isAdmin(given.data) : true, keysPlan ? isAdmin(given.keys) : true]);
    if (admins.every(Boolean)) {
      const reports = await migrateServiceDatabases(databases, {
        admin: given,
        password: (schema) => password(urlOf(planOf(databases, schema))),
        log,
      });
      for (const report of reports) {
        if (report.applied.length > 0 || report.changes.length > 0) {
          log.info(
            { schema: report.schema, applied: report.applied, changes: report.changes.length },
            'development: provisioned the schema as the migration job would',
          );
        }
      }
      switched = true;
    }
  }
  return {
    url(schema) {
      const url = urlOf(planOf(databases, schema));
      return switched ? withLogin(url, runtimeRole(schema), password(url)) : url;
    },
  };
}

function planOf(databases: ServiceDatabases, schema: string): SchemaPlan {
  const plan = databases.schemas.find((p) => p.schema === schema);
  if (!plan) throw new Error(`schema ${schema} is not one of ${databases.service}'s`);
  return plan;
}
