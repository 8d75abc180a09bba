import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migration } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/core';
import { createTestDatabase, sharedServers, type TestDatabase } from '@passage/testing';
import pg from 'pg';
import {
  BootstrapError,
  ConfigError,
  DatabaseNotReadyError,
  DatabaseRoleError,
  checkServiceLogin,
  createLogger,
  isWorthWaitingFor,
  migrateServiceDatabases,
  openDatabase,
  serviceLogins,
  withLogin,
  type ServiceDatabases,
  type TableGrants,
} from '../src/index.ts';

// docs/adr/0028-database-login-roles.md: each service logs in as its own runtime role, which
// owns nothing; an owner role owns the schema; a migration job makes both and the grants.
const log = createLogger('roles-test', 'silent');
const runJob = 'run the migration job (`pnpm migrate` / the migrate Job)';

function migration(name: string, sql: (schema: string) => string[], schema: string): MigrationObject {
  return {
    name,
    class: class extends Migration {
      override up(): void {
        for (const statement of sql(schema)) this.addSql(statement);
      }
    },
  };
}

const things = (schema: string) =>
  migration(
    'Migration20261128000000Things',
    (s) => [`create table "${s}".things (id bigserial primary key, label text not null default '')`],
    schema,
  );
const more = (schema: string) =>
  migration('Migration20261201000000More', (s) => [`create table "${s}".more (id int primary key)`], schema);

function databases(schema: string, grants: TableGrants = { things: ['select', 'insert'] }): ServiceDatabases {
  return { service: schema, schemas: [{ schema, migrations: [things(schema)], grants }] };
}

let db: TestDatabase;
const others: TestDatabase[] = [];
const rolesMade: string[] = [];

async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Runs the statements on one connection as `url`, and returns each one's SQLSTATE ('ok' if none). */
async function outcomes(url: string, statements: readonly string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const codes: string[] = [];
    for (const statement of statements) {
      codes.push(
        await client.query(statement).then(
          () => 'ok',
          (error: unknown) => (error as { code?: string }).code ?? 'error',
        ),
      );
    }
    return codes;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('roles');
  await migrateServiceDatabases(databases('alpha'), { admin: { data: db.url }, log });
  await migrateServiceDatabases(databases('beta'), { admin: { data: db.url }, log });
});

afterAll(async () => {
  await db?.drop();
  for (const other of others) await other.drop();
  const { adminDatabaseUrl } = await sharedServers();
  for (const role of rolesMade) await sql(adminDatabaseUrl, `drop role if exists ${role}`);
});

describe('the runtime login role', () => {
  it('reaches its own schema and no other, and RESET ROLE or SET ROLE does not escape', async () => {
    const asAlpha = withLogin(db.url, 'passage_alpha');
    await checkServiceLogin(asAlpha, databases('alpha').schemas[0]!, 'DATABASE_URL');
    expect(
      await outcomes(asAlpha, [
        `insert into alpha.things (label) values ('x')`,
        'select id from alpha.things',
        'select id from beta.things',
        'reset role',
        'select id from beta.things',
        'set role passage_beta',
        'set role passage_alpha_owner',
        'set role postgres',
        'delete from alpha.things',
        'update alpha.things set label = $$y$$',
        'truncate alpha.things',
        'create table alpha.mine (n int)',
        'grant delete on alpha.things to passage_alpha',
        'delete from alpha.things',
        'alter table alpha.things owner to passage_alpha',
      ]),
    ).toEqual([
      'ok',
      'ok',
      '42501', // permission denied for schema beta
      'ok',
      '42501',
      '42501', // must be a member of the role to set it
      '42501',
      '42501',
      '42501', // no DELETE declared
      '42501',
      '42501',
      '42501', // no CREATE on the schema
      'ok', // "no privileges were granted": it holds no grant option…
      '42501', // …so DELETE stays refused
      '42501', // owns nothing
    ]);
  });

  it('is what the schema belongs to the owner of, with every object in it', async () => {
    const owners = await sql<{ name: string; owner: string }>(
      db.url,
      `select 'schema' as name, pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = 'alpha'
       union all select c.relname, pg_get_userbyid(c.relowner) from pg_class c
         join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'alpha' order by 1`,
    );
    expect(owners.length).toBeGreaterThan(2);
    expect(new Set(owners.map((o) => o.owner))).toEqual(new Set(['passage_alpha_owner']));
    const [roles] = await sql<{ owner_login: boolean; runtime_login: boolean; memberships: number }>(
      db.url,
      `select (select rolcanlogin from pg_roles where rolname = 'passage_alpha_owner') as owner_login,
              (select rolcanlogin from pg_roles where rolname = 'passage_alpha') as runtime_login,
              (select count(*)::int from pg_auth_members m join pg_roles r on r.oid = m.member
                where r.rolname = 'passage_alpha') as memberships`,
    );
    expect(roles).toEqual({ owner_login: false, runtime_login: true, memberships: 0 });
  });
});

describe('the migration job', () => {
  async function snapshot(url: string, schema: string): Promise<unknown[]> {
    return sql(
      url,
      `select 'role' as kind, rolname as name, concat_ws(',', rolcanlogin, rolsuper, rolcreaterole, rolinherit) as detail
         from pg_roles where rolname in ($2, $3)
       union all select 'member', r.rolname, g.rolname from pg_auth_members m
         join pg_roles r on r.oid = m.member join pg_roles g on g.oid = m.roleid where r.rolname in ($2, $3)
       union all select 'schema', nspname, concat_ws(' ', pg_get_userbyid(nspowner), nspacl::text)
         from pg_namespace where nspname = $1
       union all select 'relation', c.relname, concat_ws(' ', pg_get_userbyid(c.relowner), c.relacl::text)
         from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1
       order by 1, 2, 3`,
      [schema, `passage_${schema}`, `passage_${schema}_owner`],
    );
  }

  it('changes nothing when run again', async () => {
    const before = await snapshot(db.url, 'alpha');
    expect(before.length).toBeGreaterThan(4);
    const [report] = await migrateServiceDatabases(databases('alpha'), { admin: { data: db.url }, log });
    expect(report).toEqual({ schema: 'alpha', applied: [], changes: [] });
    expect(await snapshot(db.url, 'alpha')).toEqual(before);
  });

  it('runs safely side by side: several jobs on one database and on another', async () => {
    const schema = `conc_${randomBytes(3).toString('hex')}`;
    rolesMade.push(`passage_${schema}`, `passage_${schema}_owner`);
    const second = await createTestDatabase('roles_second');
    others.push(second);
    const jobs = [db, db, db, second, second, second].map((target) =>
      migrateServiceDatabases(databases(schema), { admin: { data: target.url }, log }),
    );
    const reports = (await Promise.all(jobs)).flat();
    expect(reports).toHaveLength(6);
    for (const target of [db, second]) {
      const applied = await sql<{ n: number }>(
        target.url,
        `select count(*)::int as n from "${schema}".mikro_orm_migrations`,
      );
      expect(applied).toEqual([{ n: 1 }]);
      await checkServiceLogin(
        withLogin(target.url, `passage_${schema}`),
        databases(schema).schemas[0]!,
        'DATABASE_URL',
      );
    }
    // Exactly one job per database applied the migration; the others found it done.
    expect(reports.filter((r) => r.applied.length > 0)).toHaveLength(2);
    expect(await snapshot(second.url, schema)).toEqual(await snapshot(db.url, schema));
  });

  it('brings drifted grants and memberships back, and refuses tables without declared grants', async () => {
    await sql(db.url, 'grant delete on alpha.things to passage_alpha');
    await sql(db.url, 'grant passage_alpha_owner to passage_alpha');
    await expect(
      checkServiceLogin(withLogin(db.url, 'passage_alpha'), databases('alpha').schemas[0]!, 'DATABASE_URL'),
    ).rejects.toThrow(/passage_alpha is a member of passage_alpha_owner and could SET ROLE to it/);
    const [report] = await migrateServiceDatabases(databases('alpha'), { admin: { data: db.url }, log });
    expect(report!.changes).toEqual([
      'revoke passage_alpha_owner from passage_alpha',
      'revoke all on table alpha.things from passage_alpha',
      'grant select, insert on table alpha.things to passage_alpha',
    ]);
    await checkServiceLogin(withLogin(db.url, 'passage_alpha'), databases('alpha').schemas[0]!, 'DATABASE_URL');
    // A grant taken away: the service waits for the job to give it back.
    await sql(db.url, 'revoke insert on alpha.things from passage_alpha');
    const lacking = checkServiceLogin(
      withLogin(db.url, 'passage_alpha'),
      databases('alpha').schemas[0]!,
      'DATABASE_URL',
    );
    await expect(lacking).rejects.toThrow(`DATABASE_URL: passage_alpha lacks insert on things in alpha: ${runJob}`);
    await expect(lacking).rejects.toBeInstanceOf(DatabaseNotReadyError);
    await migrateServiceDatabases(databases('alpha'), { admin: { data: db.url }, log });
    await checkServiceLogin(withLogin(db.url, 'passage_alpha'), databases('alpha').schemas[0]!, 'DATABASE_URL');

    const undeclared = databases('alpha', {});
    await expect(migrateServiceDatabases(undeclared, { admin: { data: db.url }, log })).rejects.toThrow(
      'the grants of schema alpha do not match its tables: things has no grant declared',
    );
    await expect(migrateServiceDatabases(undeclared, { admin: { data: db.url }, log })).rejects.toBeInstanceOf(
      BootstrapError,
    );
  });
  it('works with an admin login that may create roles and schemas but is no superuser', async () => {
    const suffix = randomBytes(3).toString('hex');
    const admin = `passage_test_admin_${suffix}`;
    const schema = `adm_${suffix}`;
    rolesMade.push(`passage_${schema}`, `passage_${schema}_owner`);
    await sql(db.url, `create role ${admin} login createrole`);
    await sql(db.url, `grant create on database "${db.name}" to ${admin}`);
    try {
      const [report] = await migrateServiceDatabases(databases(schema), {
        admin: { data: withLogin(db.url, admin) },
        log,
      });
      expect(report!.applied).toEqual(['Migration20261128000000Things']);
      expect(report!.changes).toContain(`grant passage_${schema}_owner to ${admin}`);
      await checkServiceLogin(withLogin(db.url, `passage_${schema}`), databases(schema).schemas[0]!, 'DATABASE_URL');
      const [again] = await migrateServiceDatabases(databases(schema), {
        admin: { data: withLogin(db.url, admin) },
        log,
      });
      expect(again).toEqual({ schema, applied: [], changes: [] });
      // An admin login that may not create roles is told so.
      await expect(
        migrateServiceDatabases(databases(schema), { admin: { data: withLogin(db.url, `passage_${schema}`) }, log }),
      ).rejects.toThrow(
        `the admin login passage_${schema} may not create roles: DATABASE_ADMIN_URL needs a role with CREATEROLE`,
      );
    } finally {
      await sql(db.url, `drop schema if exists ${schema} cascade`);
      await sql(db.url, `drop owned by ${admin}`);
      await sql(db.url, `drop role ${admin}`);
    }
  });

  it('takes over a schema made before the owner role existed, when the service role owned it', async () => {
    const schema = `old_${randomBytes(3).toString('hex')}`;
    rolesMade.push(`passage_${schema}`, `passage_${schema}_owner`);
    // As serviceDatabaseUrl left it: a NOLOGIN role owning the schema and its tables, migrations applied.
    const legacy = await outcomes(db.url, [
      `create role passage_${schema} nologin`,
      `create schema ${schema} authorization passage_${schema}`,
      `set role passage_${schema}`,
      `create table ${schema}.things (id bigserial primary key, label text not null default '')`,
      `create table ${schema}.mikro_orm_migrations (id serial primary key, name varchar(255), executed_at timestamptz default now())`,
      `insert into ${schema}.mikro_orm_migrations (name) values ('Migration20261128000000Things')`,
    ]);
    expect(legacy).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    const [report] = await migrateServiceDatabases(databases(schema), { admin: { data: db.url }, log });
    expect(report!.changes).toEqual(
      expect.arrayContaining([
        `alter role passage_${schema} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls`,
        `reassign owned by passage_${schema} to passage_${schema}_owner`,
      ]),
    );
    await checkServiceLogin(withLogin(db.url, `passage_${schema}`), databases(schema).schemas[0]!, 'DATABASE_URL');
    const owners = await sql<{ owner: string }>(
      db.url,
      `select distinct pg_get_userbyid(c.relowner) as owner from pg_class c
         join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1`,
      [schema],
    );
    expect(owners).toEqual([{ owner: `passage_${schema}_owner` }]);
  });
});

describe('a service at start', () => {
  it('refuses a login that could do more than its runtime role, in one line naming the setting', async () => {
    const plan = databases('alpha').schemas[0]!;
    const refusal = checkServiceLogin(db.url, plan, 'DATABASE_URL');
    await expect(refusal).rejects.toBeInstanceOf(DatabaseRoleError);
    await expect(refusal).rejects.toThrow(
      'DATABASE_URL: logs in as postgres, a superuser: log in as passage_alpha, the login role the migration job creates',
    );
    await expect(checkServiceLogin(withLogin(db.url, 'passage_beta'), plan, 'DATABASE_URL')).rejects.toThrow(
      /DATABASE_URL: logs in as passage_beta: log in as passage_alpha/,
    );
    for (const error of [await refusal.catch((e: unknown) => e)]) expect(isWorthWaitingFor(error)).toBe(false);
  });

  it('waits while the database is behind this build, saying which migration and what to run', async () => {
    const ahead = {
      schema: 'alpha',
      migrations: [things('alpha'), more('alpha')],
      grants: { things: ['select'] },
    } as const;
    const waiting = await checkServiceLogin(withLogin(db.url, 'passage_alpha'), ahead, 'DATABASE_URL').catch(
      (e: unknown) => e,
    );
    expect(waiting).toBeInstanceOf(DatabaseNotReadyError);
    expect(isWorthWaitingFor(waiting)).toBe(true);
    expect((waiting as Error).message).toBe(
      `schema alpha: database is at migration Migration20261128000000Things, this build needs Migration20261201000000More: ${runJob}`,
    );
    await expect(
      openDatabase({
        url: withLogin(db.url, 'passage_alpha'),
        schema: 'alpha',
        entities: [],
        migrations: ahead.migrations,
      }),
    ).rejects.toThrow(
      'database is at migration Migration20261128000000Things, this build needs Migration20261201000000More',
    );
    // A login role the job has not made yet: waited for, with the same advice.
    const missing = await checkServiceLogin(
      withLogin(db.url, 'passage_nothing_yet'),
      { schema: 'nothing_yet', migrations: [], grants: {} },
      'DATABASE_URL',
    ).catch((e: unknown) => e);
    expect(isWorthWaitingFor(missing)).toBe(true);
    expect((missing as Error).message).toMatch(
      /DATABASE_URL: cannot log in as passage_nothing_yet .*the migration job creates/,
    );
  });

  it('in development only, provisions its schema with an admin login and then logs in as its runtime role', async () => {
    const schema = `dev_${randomBytes(3).toString('hex')}`;
    rolesMade.push(`passage_${schema}`, `passage_${schema}_owner`);
    const logins = await serviceLogins({
      databases: databases(schema),
      urls: { data: db.url },
      env: 'development',
      log,
    });
    const url = logins.url(schema);
    expect(new URL(url).username).toBe(`passage_${schema}`);
    await checkServiceLogin(url, databases(schema).schemas[0]!, 'DATABASE_URL');
    // Outside development the same admin URL is neither used to provision nor accepted without TLS.
    await expect(
      serviceLogins({ databases: databases(schema), urls: { data: db.url }, env: 'production', log }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});
