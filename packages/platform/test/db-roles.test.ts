import { afterAll, beforeAll, expect, it } from 'vitest';
import { Migration } from '@mikro-orm/migrations';
import { createTestDatabase, type TestDatabase } from '@passage/testing';
import pg from 'pg';
import { DatabaseRoleError, openDatabase, serviceDatabaseUrl, type MikroORM } from '../src/index.ts';

// DESIGN.md, "Storage": one schema per service, and a role that reaches only its schema.
function things(schema: string) {
  return class extends Migration {
    override up(): void {
      this.addSql(`create table "${schema}".things (id int primary key)`);
      this.addSql(`insert into "${schema}".things values (1)`);
    }
  };
}

let db: TestDatabase;
const orms: MikroORM[] = [];

beforeAll(async () => {
  db = await createTestDatabase('roles');
});

afterAll(async () => {
  for (const orm of orms) await orm.close(true);
  await db?.drop();
});

async function open(schema: string): Promise<MikroORM> {
  const orm = await openDatabase({
    url: await serviceDatabaseUrl(db.url, schema),
    schema,
    entities: [],
    migrations: [{ name: `Migration20261128000000${schema}`, class: things(schema) }],
    poolMax: 2,
  });
  orms.push(orm);
  return orm;
}

it("acts as the service's own role, which reaches its schema and no other", async () => {
  const alpha = await open('alpha');
  const beta = await open('beta');
  const [me] = await alpha.em.fork().execute<{ role: string }[]>('select current_user as role');
  expect(me?.role).toBe('passage_alpha');
  expect(await alpha.em.fork().execute('select id from alpha.things')).toEqual([{ id: 1 }]);
  await expect(alpha.em.fork().execute('select id from beta.things')).rejects.toThrow(/permission denied/);
  await expect(beta.em.fork().execute('delete from alpha.things')).rejects.toThrow(/permission denied/);
  // Opening again (a restart) keeps working: the role and its ownership are already there.
  await open('alpha');
});

it('fails closed: a login user that may not act as the role is refused, never used instead', async () => {
  const login = `passage_test_lowly_${process.pid}`;
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query(`drop role if exists ${login}`);
    await admin.query(`create role ${login} login`);
    const asLowly = new URL(db.url);
    asLowly.username = login;
    // Neither the role nor a schema can be made, and the user is no member of a role made ahead.
    await expect(serviceDatabaseUrl(asLowly.toString(), 'gamma')).rejects.toBeInstanceOf(DatabaseRoleError);
    await admin.query('create role passage_delta nologin');
    await expect(serviceDatabaseUrl(asLowly.toString(), 'delta')).rejects.toThrow(/may not set this role/);
    // Provisioned ahead (the deployment's way): role, schema it owns, membership granted — accepted.
    await admin.query('create schema delta authorization passage_delta');
    await admin.query(`grant passage_delta to ${login}`);
    const url = await serviceDatabaseUrl(asLowly.toString(), 'delta');
    expect(new URL(url).searchParams.get('options')).toBe('-c role=passage_delta');
  } finally {
    await admin.query('drop schema if exists delta cascade');
    await admin.query('drop role if exists passage_delta');
    await admin.query(`drop owned by ${login}`).catch(() => undefined);
    await admin.query(`drop role if exists ${login}`);
    await admin.end();
  }
});

it('two instances of a service opening a new schema at once migrate it once, and both start', async () => {
  // Found by the loopback cluster test: both instances created the same tables, one crashed.
  const url = await serviceDatabaseUrl(db.url, 'twins');
  const migrations = [{ name: 'Migration20261130000000twins', class: things('twins') }];
  const opened = await Promise.allSettled(
    [0, 1, 2].map(() => openDatabase({ url, schema: 'twins', entities: [], migrations, poolMax: 2 })),
  );
  for (const result of opened) if (result.status === 'fulfilled') orms.push(result.value);
  expect(opened.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  try {
    const rows = (await sql.query<{ n: number }>('select count(*)::int as n from twins.things')).rows;
    expect(rows).toEqual([{ n: 1 }]);
  } finally {
    await sql.end();
  }
});
