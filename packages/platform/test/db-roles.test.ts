import { afterAll, beforeAll, expect, it } from 'vitest';
import { Migration } from '@mikro-orm/migrations';
import { createTestDatabase, type TestDatabase } from '@passage/testing';
import { openDatabase, serviceDatabaseUrl, type MikroORM } from '../src/index.ts';

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
