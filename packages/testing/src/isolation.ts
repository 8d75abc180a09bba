import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { sharedServers } from './servers.ts';

/** A database of its own for one test file, dropped by `drop()`. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/**
 * What a test database starts as, when not empty: `key` names everything that decides its
 * contents (a hash of the migrations' SQL, say), `build` fills an empty database (its admin URL)
 * with them. Built once per key on the server (templateDatabase), then copied per test file.
 */
export interface DatabaseTemplate {
  readonly key: string;
  build(url: string): Promise<void>;
}

/**
 * An empty database of the test file's own; with `template`, a copy of that template's database
 * (`CREATE DATABASE … TEMPLATE`), built first if no test process has built it yet. A test of
 * migrating itself (a migration job, a restore, an older schema) takes the empty one.
 */
export async function createTestDatabase(
  label = 'test',
  options: { template?: DatabaseTemplate } = {},
): Promise<TestDatabase> {
  const { adminDatabaseUrl } = await sharedServers();
  const name = `t_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  if (options.template) await createFromTemplate(adminDatabaseUrl, name, options.template);
  else await adminQuery(adminDatabaseUrl, `create database "${name}"`);
  return {
    url: databaseUrl(adminDatabaseUrl, name),
    name,
    drop: () => adminQuery(adminDatabaseUrl, `drop database if exists "${name}" with (force)`),
  };
}

function databaseUrl(adminDatabaseUrl: string, name: string): string {
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Templates are named `passage_tpl_<key>`; older ones are dropped once unused for this long. */
const templatePrefix = 'passage_tpl_';
const templateUnusedMs = 60 * 60_000;
const ensured = new Map<string, Promise<string>>();

async function createFromTemplate(adminDatabaseUrl: string, name: string, template: DatabaseTemplate): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const source = await templateDatabase(adminDatabaseUrl, template);
    try {
      await adminQuery(adminDatabaseUrl, `create database "${name}" template "${source}"`);
      return;
    } catch (error) {
      // Dropped since (another checkout's run, its migrations different, found it unused): built again.
      if ((error as { code?: string }).code !== '3D000' || attempt > 2) throw error;
      ensured.delete(template.key);
    }
  }
}

/**
 * The name of the template's database on the shared server, built if missing: once per key,
 * whichever test process comes first, the others waiting on an advisory lock. It is built under
 * a name of its own and renamed when complete, so a database by the template's name is always
 * whole; it refuses connections (a connection would stop every copy). Templates of other keys
 * unused for an hour (the migrations changed, another checkout's) are dropped then.
 */
export function templateDatabase(adminDatabaseUrl: string, template: DatabaseTemplate): Promise<string> {
  let found = ensured.get(template.key);
  if (!found) {
    found = ensureTemplate(adminDatabaseUrl, template);
    ensured.set(template.key, found);
    found.catch(() => ensured.delete(template.key));
  }
  return found;
}

async function ensureTemplate(adminDatabaseUrl: string, template: DatabaseTemplate): Promise<string> {
  if (!/^[a-z0-9]{1,40}$/.test(template.key)) throw new Error(`a template key is 1 to 40 of a-z0-9: ${template.key}`);
  const name = `${templatePrefix}${template.key}`;
  const client = new pg.Client({ connectionString: adminDatabaseUrl, application_name: 'passage-test-template' });
  await client.connect();
  const exists = async () =>
    (await client.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  // When a process last used it, for dropping the unused ones: a comment, since no one connects to it.
  // Two processes at once may race on it ('tuple concurrently updated'): either time will do.
  const used = () =>
    client.query(`comment on database "${name}" is '${new Date().toISOString()}'`).catch(() => undefined);
  try {
    if (await exists()) {
      await used();
      return name;
    }
    // One build per key at a time; builds of other keys go on beside it.
    const lock = `passage:test-template:${template.key}`;
    await client.query('select pg_advisory_lock(hashtext($1))', [lock]);
    try {
      if (await exists()) {
        await used();
        return name;
      }
      const building = `${name}_b${randomBytes(3).toString('hex')}`;
      await client.query(`create database "${building}"`);
      // Dated as used, so that another key's build does not take it for one a dead process left.
      await client.query(`comment on database "${building}" is '${new Date().toISOString()}'`);
      try {
        await template.build(databaseUrl(adminDatabaseUrl, building));
        // Nothing may stay connected to a template: a pool's connection still closing, say.
        await client.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [building],
        );
        await client.query(`alter database "${building}" with is_template true allow_connections false`);
        await client.query(`alter database "${building}" rename to "${name}"`);
      } catch (error) {
        await dropTemplate(client, building).catch(() => undefined);
        throw error;
      }
      await used();
      await dropUnusedTemplates(client, name);
      return name;
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [lock]);
    }
  } finally {
    await client.end();
  }
}

async function dropUnusedTemplates(client: pg.Client, keep: string): Promise<void> {
  const { rows } = await client.query<{ name: string; used: string | null }>(
    `select datname as name, shobj_description(oid, 'pg_database') as used from pg_database
      where starts_with(datname, $1) and datname <> $2`,
    [templatePrefix, keep],
  );
  for (const row of rows) {
    const usedAt = Date.parse(row.used ?? '');
    // One a process left half-built (it died) is dated when its build began.
    if (Number.isNaN(usedAt) || Date.now() - usedAt > templateUnusedMs) await dropTemplate(client, row.name);
  }
}

async function dropTemplate(client: pg.Client, name: string): Promise<void> {
  await client.query(`alter database "${name}" is_template false`);
  await client.query(`drop database if exists "${name}" with (force)`);
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** NATS for one test file: the shared server, with stream and subject names of its own. */
export interface TestNats {
  readonly url: string;
  readonly namespace: string;
  /** Deletes the streams this namespace created. */
  cleanup(): Promise<void>;
}

export async function createTestNats(label = 'test'): Promise<TestNats> {
  const { natsUrl } = await sharedServers();
  const namespace = `t${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}${randomBytes(4).toString('hex')}`;
  return {
    url: natsUrl,
    namespace,
    async cleanup() {
      const nc = await connect({ servers: natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        const prefix = `${namespace.toUpperCase()}_`;
        for await (const stream of jsm.streams.list()) {
          if (stream.config.name.startsWith(prefix)) await jsm.streams.delete(stream.config.name);
        }
      } finally {
        await nc.close();
      }
    },
  };
}
