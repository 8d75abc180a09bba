import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { Migration } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/core';
import { createTestDatabase, sharedServers, type TestDatabase } from '@passage/testing';
import pg from 'pg';
import { migrateServiceDatabases, type ServiceDatabases } from '../src/index.ts';
import { migratedTemplate } from '../src/testing.ts';

// docs/adr/0050-test-suite-fixed-costs.md: a test database copied from a migrated template
// is what the services' migration jobs would have made of an empty one; the template is named
// by the migrations' SQL, so a changed migration never finds an older template.
const schema = `tpl_${randomBytes(4).toString('hex')}`;
const copies: TestDatabase[] = [];

function plan(sql: string): ServiceDatabases {
  const things: MigrationObject = {
    name: 'Migration20261201000000Things',
    class: class extends Migration {
      override up(): void {
        this.addSql(sql);
      }
    },
  };
  return { service: schema, schemas: [{ schema, migrations: [things], grants: { things: ['select', 'insert'] } }] };
}

const first = plan(`create table "${schema}".things (id int primary key)`);

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  for (const copy of copies) await copy.drop();
  const { adminDatabaseUrl } = await sharedServers();
  // The template holds grants to this test's roles: dropped before them.
  const template = `passage_tpl_${migratedTemplate([first]).key}`;
  await query(adminDatabaseUrl, `alter database "${template}" is_template false`).catch(() => undefined);
  await query(adminDatabaseUrl, `drop database if exists "${template}" with (force)`);
  for (const role of [`passage_${schema}`, `passage_${schema}_owner`]) {
    await query(adminDatabaseUrl, `drop role if exists ${role}`);
  }
});

it('copies a database the migration job finds nothing to do in, with the grants it declares', async () => {
  const copy = await createTestDatabase('tplcopy', { template: migratedTemplate([first]) });
  copies.push(copy);
  const [report] = await migrateServiceDatabases(first, { admin: { data: copy.url } });
  expect(report).toEqual({ schema, applied: [], changes: [] });
  const privileges = await query<{ privilege_type: string }>(
    copy.url,
    `select privilege_type from information_schema.role_table_grants
      where grantee = $1 and table_schema = $2 and table_name = 'things' order by privilege_type`,
    [`passage_${schema}`, schema],
  );
  expect(privileges.map((row) => row.privilege_type)).toEqual(['INSERT', 'SELECT']);
  // A second copy is a database of its own: what one test writes, the other does not see.
  const other = await createTestDatabase('tplcopy', { template: migratedTemplate([first]) });
  copies.push(other);
  await query(copy.url, `insert into "${schema}".things values (1)`);
  expect(await query(other.url, `select * from "${schema}".things`)).toEqual([]);
});

it('names the template by the migrations’ SQL: a changed migration is another template', () => {
  expect(migratedTemplate([first]).key).toBe(
    migratedTemplate([plan(`create table "${schema}".things (id int primary key)`)]).key,
  );
  expect(migratedTemplate([first]).key).not.toBe(
    migratedTemplate([plan(`create table "${schema}".things (id bigint primary key)`)]).key,
  );
  expect(migratedTemplate([first]).key).toMatch(/^[0-9a-f]{32}$/);
});
