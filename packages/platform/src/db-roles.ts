import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { MigrationObject } from '@mikro-orm/core';
import { databaseClient, withParam } from './database-url.ts';
import type { Logger } from './logger.ts';
import { DatabaseNotReadyError, checkMigrations, migrateDatabase } from './orm.ts';

/**
 * Each service schema's two roles and what makes them (docs/adr/0028-database-login-roles.md):
 * `passage_<schema>_owner` (NOLOGIN) owns the schema and everything in it and runs its
 * migrations; `passage_<schema>` (LOGIN, a member of nothing) is what the service logs in
 * as, with USAGE on its schema and the table privileges its grants declare. It owns nothing,
 * so it cannot grant itself more.
 */
export type TablePrivilege = 'select' | 'insert' | 'update' | 'delete';

/** Per table of the schema, what the service's runtime role may do; every table must be listed. */
export type TableGrants = Readonly<Record<string, readonly TablePrivilege[]>>;

export const readWrite: readonly TablePrivilege[] = ['select', 'insert', 'update', 'delete'];

export interface SchemaPlan {
  readonly schema: string;
  /** Listed explicitly, in order: no folder scanning, so a bundle or a rename cannot skip one. */
  readonly migrations: readonly MigrationObject[];
  readonly grants: TableGrants;
  /** The service's database (DATABASE_URL) or its key store's (KEYSTORE_DATABASE_URL). */
  readonly database?: 'data' | 'keys';
}

/** What one service's migration job provisions, in order. */
export interface ServiceDatabases {
  readonly service: string;
  readonly schemas: readonly SchemaPlan[];
  /**
   * Runs after every schema's migrations and before the grants, acting as the owner roles
   * (`owners(schema)` is a URL whose connections act as that schema's owner): moving rows
   * between schemas, say.
   */
  readonly afterMigrations?: (owners: (schema: string) => string, log?: Logger) => Promise<void>;
}

const identifier = /^[a-z_][a-z0-9_]*$/;

function checkedSchema(schema: string): string {
  if (!identifier.test(schema) || schema.endsWith('_owner')) throw new Error(`unsafe schema name "${schema}"`);
  return schema;
}

/** The login role a service's connections to `schema` use. */
export function runtimeRole(schema: string): string {
  return `passage_${checkedSchema(schema)}`;
}

/** The role that owns `schema` and runs its migrations; nobody logs in as it. */
export function ownerRole(schema: string): string {
  return `passage_${checkedSchema(schema)}_owner`;
}

/** The setting a runtime role's password comes from, if any: CONSENT_KEYS_DATABASE_PASSWORD, say. */
export function runtimePasswordSetting(schema: string): string {
  return `${checkedSchema(schema).toUpperCase()}_DATABASE_PASSWORD`;
}

/** The provisioning cannot be done with this admin login, or the schema holds what it should not. */
export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

export interface SchemaReport {
  readonly schema: string;
  /** Migrations applied by this run. */
  readonly applied: readonly string[];
  /** Every statement that changed a role, the schema or a grant; empty when all was in place. */
  readonly changes: readonly string[];
}

/** A SCRAM-SHA-256 verifier: the server (and its statement log) never sees the password itself. */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const q = (name: string): string => `"${name}"`;

/** Roles are shared by every database of a cluster: two jobs (or test databases) may race on one. */
const concurrentCatalogChange = new Set(['42710', '23505', 'XX000', '40001', '40P01']);

async function retryingRaces<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= 8 || !concurrentCatalogChange.has((error as { code?: string }).code ?? '')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 50));
    }
  }
}

interface RoleRow {
  rolcanlogin: boolean;
  rolsuper: boolean;
  rolcreatedb: boolean;
  rolcreaterole: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
}

async function ensureRole(client: pg.Client, role: string, login: boolean, changes: string[]): Promise<void> {
  await retryingRaces(async () => {
    const { rows } = await client.query<RoleRow>(
      `select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
         from pg_roles where rolname = $1`,
      [role],
    );
    const row = rows[0];
    const wanted = `${login ? 'login' : 'nologin'} nosuperuser nocreatedb nocreaterole noreplication nobypassrls`;
    if (!row) {
      await client.query(`create role ${q(role)} ${wanted}`);
      changes.push(`create role ${role} ${login ? 'login' : 'nologin'}`);
    } else if (
      row.rolcanlogin !== login ||
      row.rolsuper ||
      row.rolcreatedb ||
      row.rolcreaterole ||
      row.rolreplication ||
      row.rolbypassrls
    ) {
      await client.query(`alter role ${q(role)} ${wanted}`);
      changes.push(`alter role ${role} ${wanted}`);
    }
  });
}

interface Admin {
  readonly name: string;
  readonly superuser: boolean;
  readonly version: number;
}

async function adminOf(client: pg.Client): Promise<Admin> {
  const { rows } = await client.query<{ name: string; superuser: boolean; createrole: boolean; version: number }>(
    `select current_user as name, rolsuper as superuser, rolcreaterole as createrole,
            current_setting('server_version_num')::int as version
       from pg_roles where rolname = current_user`,
  );
  const me = rows[0]!;
  if (!me.superuser && !me.createrole) {
    throw new BootstrapError(
      `the admin login ${me.name} may not create roles: DATABASE_ADMIN_URL needs a role with CREATEROLE ` +
        '(and CREATE on the database), or a superuser in development',
    );
  }
  return { name: me.name, superuser: me.superuser, version: me.version };
}

/** The admin must be able to SET ROLE to the owner to run migrations and grant as it. */
async function ensureAdminActsAs(client: pg.Client, admin: Admin, owner: string, changes: string[]): Promise<void> {
  if (admin.superuser) return;
  const right = admin.version >= 160000 ? 'SET' : 'MEMBER';
  const { rows } = await client.query<{ can: boolean }>('select pg_has_role(current_user, $1, $2) as can', [
    owner,
    right,
  ]);
  if (rows[0]?.can) return;
  const options = admin.version >= 160000 ? ' with set true, inherit false' : '';
  await retryingRaces(() => client.query(`grant ${q(owner)} to ${q(admin.name)}${options}`));
  changes.push(`grant ${owner} to ${admin.name}`);
}

/** The runtime role is a member of nothing: it can SET ROLE to no one. */
async function revokeMemberships(client: pg.Client, runtime: string, changes: string[]): Promise<void> {
  const { rows } = await client.query<{ role: string }>(
    `select g.rolname as role from pg_auth_members m
       join pg_roles g on g.oid = m.roleid join pg_roles r on r.oid = m.member
      where r.rolname = $1`,
    [runtime],
  );
  for (const { role } of rows) {
    await retryingRaces(() => client.query(`revoke ${q(role)} from ${q(runtime)}`));
    changes.push(`revoke ${role} from ${runtime}`);
  }
}

async function ensureSchema(client: pg.Client, plan: SchemaPlan, changes: string[]): Promise<void> {
  const { schema } = plan;
  const owner = ownerRole(schema);
  const runtime = runtimeRole(schema);
  const { rows } = await client.query<{ owner: string }>(
    'select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1',
    [schema],
  );
  const current = rows[0]?.owner;
  if (current === undefined) {
    await client.query(`create schema ${q(schema)} authorization ${q(owner)}`);
    changes.push(`create schema ${schema} authorization ${owner}`);
  } else if (current === runtime) {
    // Made before ADR 28, when the service's role owned its schema: the owner takes it all over.
    await client.query(`reassign owned by ${q(runtime)} to ${q(owner)}`);
    changes.push(`reassign owned by ${runtime} to ${owner}`);
  } else if (current !== owner) {
    await client.query(`alter schema ${q(schema)} owner to ${q(owner)}`);
    changes.push(`alter schema ${schema} owner to ${owner}`);
  }
}

type Privilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'USAGE';

interface ObjectRow {
  name: string;
  kind: string;
  owner: string;
  /** For a sequence, the table whose column it numbers. */
  table: string | null;
  privileges: string[];
}

/** Grants of the runtime role brought to what the plan declares, as the owner; nothing run when right. */
async function applyGrants(client: pg.Client, plan: SchemaPlan, changes: string[]): Promise<void> {
  const { schema, grants } = plan;
  const owner = ownerRole(schema);
  const runtime = runtimeRole(schema);
  const { rows: objects } = await client.query<ObjectRow>(
    `select c.relname as name, c.relkind as kind, pg_get_userbyid(c.relowner) as owner,
            (select t.relname from pg_depend d join pg_class t on t.oid = d.refobjid
              where d.classid = 'pg_class'::regclass and d.objid = c.oid
                and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i') limit 1) as table,
            array(select a.privilege_type || case when a.is_grantable then '*' else '' end
                    from aclexplode(c.relacl) a join pg_roles r on r.oid = a.grantee where r.rolname = $2) as privileges
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
      order by c.relname`,
    [schema, runtime],
  );
  const undeclared = objects.filter((o) => o.kind !== 'S' && o.name !== 'mikro_orm_migrations' && !grants[o.name]);
  const missing = Object.keys(grants).filter((table) => !objects.some((o) => o.name === table && o.kind !== 'S'));
  if (undeclared.length > 0 || missing.length > 0) {
    throw new BootstrapError(
      `the grants of schema ${schema} do not match its tables: ` +
        [
          ...undeclared.map((o) => `${o.name} has no grant declared`),
          ...missing.map((table) => `${table} is declared but does not exist`),
        ].join('; ') +
        ' (declare every table next to the migrations)',
    );
  }
  const strangers = objects.filter((o) => o.owner !== owner);
  if (strangers.length > 0) {
    throw new BootstrapError(
      `schema ${schema}: ${strangers.map((o) => `${o.name} belongs to ${o.owner}`).join('; ')}, not ${owner}`,
    );
  }
  const statements: string[] = [];
  for (const object of objects) {
    const sequence = object.kind === 'S';
    // A sequence numbering a table's rows: USAGE (nextval) where the role may insert into that table.
    const wanted: Privilege[] = sequence
      ? object.table && grants[object.table]?.includes('insert')
        ? ['USAGE']
        : []
      : object.name === 'mikro_orm_migrations'
        ? ['SELECT']
        : grants[object.name]!.map((p) => p.toUpperCase() as Privilege);
    const held = object.privileges;
    const target = `${sequence ? 'sequence' : 'table'} ${q(schema)}.${q(object.name)}`;
    const exact = held.length === wanted.length && wanted.every((p) => held.includes(p));
    if (exact) continue;
    if (held.length > 0) statements.push(`revoke all on ${target} from ${q(runtime)}`);
    if (wanted.length > 0) statements.push(`grant ${wanted.join(', ').toLowerCase()} on ${target} to ${q(runtime)}`);
  }
  const { rows: schemaRows } = await client.query<{ privileges: string[] }>(
    `select array(select a.privilege_type || case when a.is_grantable then '*' else '' end
                    from aclexplode(n.nspacl) a join pg_roles r on r.oid = a.grantee where r.rolname = $2) as privileges
       from pg_namespace n where n.nspname = $1`,
    [schema, runtime],
  );
  const onSchema = schemaRows[0]?.privileges ?? [];
  if (onSchema.length !== 1 || onSchema[0] !== 'USAGE') {
    if (onSchema.length > 0) statements.push(`revoke all on schema ${q(schema)} from ${q(runtime)}`);
    statements.push(`grant usage on schema ${q(schema)} to ${q(runtime)}`);
  }
  if (statements.length === 0) return;
  await client.query(`set role ${q(owner)}`);
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.query('reset role');
  }
  changes.push(...statements.map((s) => s.replaceAll('"', '')));
}

async function ensureConnect(client: pg.Client, runtime: string, changes: string[]): Promise<void> {
  const { rows } = await client.query<{ can: boolean; db: string }>(
    `select has_database_privilege($1, current_database(), 'CONNECT') as can, current_database() as db`,
    [runtime],
  );
  if (rows[0]?.can) return;
  await client.query(`grant connect on database ${q(rows[0]!.db)} to ${q(runtime)}`);
  changes.push(`grant connect on database ${rows[0]!.db} to ${runtime}`);
}

export interface BootstrapOptions {
  /** The admin URL of each database: DATABASE_ADMIN_URL, and KEYSTORE_DATABASE_ADMIN_URL for `keys`. */
  readonly admin: { readonly data: string; readonly keys?: string };
  /** A runtime role's password, if it logs in with one; none for trust or certificate authentication. */
  readonly password?: (schema: string) => string | undefined;
  readonly log?: Logger;
}

interface Session {
  readonly plan: SchemaPlan;
  readonly client: pg.Client;
  readonly adminUrl: string;
  readonly changes: string[];
  applied: string[];
}

/**
 * The migration job of one service: for each of its schemas, with the admin login, makes or
 * mends the owner and runtime roles, the schema (owned by the owner), runs the pending
 * migrations as the owner (`-c role=<owner>`: every object belongs to it), then brings the
 * runtime role's grants to what the plan declares. Idempotent: a second run changes nothing
 * (a password given is set again, to the same value). Safe to run concurrently: an advisory
 * lock per schema serialises jobs on one database; role changes, shared by a cluster's
 * databases, are retried when another job made them first.
 */
export async function migrateServiceDatabases(
  databases: ServiceDatabases,
  options: BootstrapOptions,
): Promise<SchemaReport[]> {
  const sessions: Session[] = [];
  const ownerUrl = (schema: string): string => {
    const session = sessions.find((s) => s.plan.schema === schema);
    if (!session) throw new Error(`schema ${schema} is not one of ${databases.service}'s`);
    return withParam(session.adminUrl, 'options', `-c role=${ownerRole(schema)}`);
  };
  try {
    for (const plan of databases.schemas) {
      const adminUrl = plan.database === 'keys' ? (options.admin.keys ?? options.admin.data) : options.admin.data;
      const client = databaseClient(adminUrl, { application_name: `${databases.service}-migrate` });
      client.on('error', (error) => options.log?.warn({ err: error }, 'the migration connection was lost'));
      await client.connect();
      const session: Session = { plan, client, adminUrl, changes: [], applied: [] };
      sessions.push(session);
      await client.query('select pg_advisory_lock(hashtext($1))', [`passage:migrate:${plan.schema}`]);
      const admin = await adminOf(client);
      const owner = ownerRole(plan.schema);
      const runtime = runtimeRole(plan.schema);
      await ensureRole(client, owner, false, session.changes);
      await ensureRole(client, runtime, true, session.changes);
      await ensureAdminActsAs(client, admin, owner, session.changes);
      await revokeMemberships(client, runtime, session.changes);
      const password = options.password?.(plan.schema);
      if (password) {
        await retryingRaces(() => client.query(`alter role ${q(runtime)} password '${scramVerifier(password)}'`));
      }
      await ensureConnect(client, runtime, session.changes);
      await ensureSchema(client, plan, session.changes);
      // MikroORM's migrator only when something is pending: a re-run opens no ORM at all.
      await client.query(`set role ${q(owner)}`);
      const behind = await checkMigrations(
        async (text) => (await client.query<{ name: string }>(text)).rows,
        plan.schema,
        plan.migrations,
      ).then(
        () => false,
        (error: unknown) => {
          if (error instanceof DatabaseNotReadyError) return true;
          throw error;
        },
      );
      await client.query('reset role');
      if (behind) {
        session.applied = await migrateDatabase({
          url: ownerUrl(plan.schema),
          schema: plan.schema,
          entities: [],
          migrations: plan.migrations,
          poolMax: 1,
        });
      }
    }
    await databases.afterMigrations?.(ownerUrl, options.log);
    for (const session of sessions) await applyGrants(session.client, session.plan, session.changes);
  } finally {
    for (const session of sessions) await session.client.end().catch(() => undefined);
  }
  return sessions.map((s) => ({ schema: s.plan.schema, applied: s.applied, changes: s.changes }));
}
