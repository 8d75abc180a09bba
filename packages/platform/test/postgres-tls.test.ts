import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migration } from '@mikro-orm/migrations';
import {
  startPrivatePostgres,
  startPrivatePostgresPair,
  waitUntil,
  type PrivatePostgres,
  type PrivatePostgresPair,
} from '@passage/testing';
import {
  ConfigError,
  checkServiceLogin,
  chooseDatabaseHost,
  createLogger,
  databaseClient,
  databasePool,
  isTransientDependencyError,
  migrateDatabase,
  openDatabase,
  parseDatabaseUrl,
  runMigrationJob,
  serviceLogins,
  writeDevCertificates,
  type ServiceDatabases,
  type DevCertificateFiles,
  type MikroORM,
} from '../src/index.ts';

// Postgres over TLS (verify-full, client certificates) and a multi-host URL that follows a
// failover, on every kind of connection: a pg client, a pg pool, MikroORM.
const log = createLogger('postgres-tls-test', 'silent');
const dir = mkdtempSync(join(tmpdir(), 'passage-pg-tls-'));
let certs: DevCertificateFiles;
let strangerCa: string;
let server: PrivatePostgres;
let pair: PrivatePostgresPair;

beforeAll(async () => {
  certs = writeDevCertificates({ dir: join(dir, 'ours'), names: ['postgres', 'db-server'] });
  strangerCa = writeDevCertificates({ dir: join(dir, 'stranger'), names: ['db-server'] }).ca;
  const tls = { ca: certs.ca, cert: certs.cert('db-server'), key: certs.key('db-server') };
  server = await startPrivatePostgres({ tls, requireTls: true, auth: 'cert' });
  pair = await startPrivatePostgresPair({ tls, requireTls: true });
}, 120_000);

afterAll(async () => {
  await server?.dispose();
  await pair?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const port = (url: string) => parseDatabaseUrl(url).hosts[0]!.port;

async function one<T>(url: string, sql: string): Promise<T> {
  const client = databaseClient(url, { connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end();
  }
}

const onTls = `select ssl, version from pg_stat_ssl where pid = pg_backend_pid()`;

describe('Postgres over TLS', () => {
  it('connects with sslmode=verify-full and a client certificate, on a server that takes nothing else', async () => {
    const url =
      `postgres://postgres@localhost:${port(server.url)}/postgres?sslmode=verify-full&sslrootcert=${certs.ca}` +
      `&sslcert=${certs.cert('postgres')}&sslkey=${certs.key('postgres')}`;
    expect(await one<{ ssl: boolean }>(url, onTls)).toMatchObject({ ssl: true });
    // By address too: the certificate names 127.0.0.1.
    expect(await one<{ ssl: boolean }>(url.replace('@localhost:', '@127.0.0.1:'), onTls)).toMatchObject({ ssl: true });
  });

  it('refuses a server whose certificate another CA signed, and plaintext, and a client without a certificate', async () => {
    const base = `postgres://postgres@localhost:${port(server.url)}/postgres`;
    const client = `&sslcert=${certs.cert('postgres')}&sslkey=${certs.key('postgres')}`;
    await expect(one(`${base}?sslmode=verify-full&sslrootcert=${strangerCa}${client}`, 'select 1')).rejects.toThrow(
      /self-signed certificate in certificate chain|unable to verify|unable to get local issuer/,
    );
    await expect(one(`${base}?sslmode=disable`, 'select 1')).rejects.toMatchObject({ code: '28000' });
    await expect(one(`${base}?sslmode=verify-full&sslrootcert=${certs.ca}`, 'select 1')).rejects.toMatchObject({
      code: '28000',
    });
  });

  it('keeps TLS on MikroORM and pg pool connections', async () => {
    const url =
      `postgres://postgres@localhost:${port(server.url)}/postgres?sslmode=verify-full&sslrootcert=${certs.ca}` +
      `&sslcert=${certs.cert('postgres')}&sslkey=${certs.key('postgres')}`;
    const migrations = [
      {
        name: 'Migration20261201000000Tls',
        class: class extends Migration {
          override up(): void {
            this.addSql('create table tls_lab.marks (n int)');
          }
        },
      },
    ];
    await migrateDatabase({ url, schema: 'tls_lab', entities: [], migrations });
    const orm = await openDatabase({ url, schema: 'tls_lab', entities: [], migrations, poolMax: 1 });
    const pool = databasePool(url, { max: 1 }, log);
    try {
      expect(await orm.em.fork().execute(onTls)).toEqual([
        { ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) },
      ]);
      expect((await pool.query(onTls)).rows).toEqual([{ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) }]);
    } finally {
      await pool.end();
      await orm.close(true);
    }
  });
});

describe('outside development', () => {
  it('the migration job and a service log in over TLS only, each as what it is', async () => {
    const at = (user: string, tls = true) =>
      `postgres://${user}@localhost:${pair.primary.port}/postgres` +
      (tls ? `?sslmode=verify-full&sslrootcert=${certs.ca}` : '');
    const databases: ServiceDatabases = {
      service: 'tlsjob',
      schemas: [
        {
          schema: 'tlsjob',
          migrations: [
            {
              name: 'Migration20261201000000TlsJob',
              class: class extends Migration {
                override up(): void {
                  this.addSql('create table tlsjob.marks (n int)');
                }
              },
            },
          ],
          grants: { marks: ['select', 'insert'] },
        },
      ],
    };
    const job = { PASSAGE_ENV: 'production', LOG_LEVEL: 'silent' };
    await expect(runMigrationJob(databases, job)).rejects.toThrow(/DATABASE_ADMIN_URL is required outside development/);
    await expect(runMigrationJob(databases, { ...job, DATABASE_ADMIN_URL: at('postgres', false) })).rejects.toThrow(
      /DATABASE_ADMIN_URL: outside development Postgres is reached over TLS/,
    );
    const [report] = await runMigrationJob(databases, {
      ...job,
      DATABASE_ADMIN_URL: at('postgres'),
      TLSJOB_DATABASE_PASSWORD: 'synthetic-password-1',
    });
    expect(report?.applied).toEqual(['Migration20261201000000TlsJob']);
    // Its password is stored as a SCRAM verifier made here: the server never saw it in clear.
    expect(
      await one<{ scram: boolean }>(
        at('postgres'),
        `select rolpassword like 'SCRAM-SHA-256$4096:%' as scram from pg_authid where rolname = 'passage_tlsjob'`,
      ),
    ).toEqual({ scram: true });

    const plan = databases.schemas[0]!;
    const logins = await serviceLogins({ databases, urls: { data: at('passage_tlsjob') }, env: 'production', log });
    expect(logins.url('tlsjob')).toBe(at('passage_tlsjob'));
    await checkServiceLogin(logins.url('tlsjob'), plan, 'DATABASE_URL');
    expect(await one<{ ssl: boolean }>(logins.url('tlsjob'), onTls)).toMatchObject({ ssl: true });
    await expect(checkServiceLogin(at('postgres'), plan, 'DATABASE_URL')).rejects.toThrow(/a superuser/);
    await expect(
      serviceLogins({ databases, urls: { data: at('passage_tlsjob', false) }, env: 'production', log }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('a multi-host URL', () => {
  it('connects every pool and MikroORM to the primary, and after a failover to the new one', async () => {
    const url = pair.url('postgres', { sslmode: 'verify-full', sslrootcert: certs.ca });
    const where = `select inet_server_port() as port, pg_is_in_recovery() as standby, ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    const migrations = [
      {
        name: 'Migration20261201000000Failover',
        class: class extends Migration {
          override up(): void {
            this.addSql('create table failover.writes (n int)');
          }
        },
      },
    ];
    await migrateDatabase({ url, schema: 'failover', entities: [], migrations });
    const pool = databasePool(url, { max: 2 }, log);
    let orm: MikroORM | undefined;
    try {
      orm = await openDatabase({ url, schema: 'failover', entities: [], migrations, poolMax: 2 });
      expect((await pool.query(where)).rows).toEqual([{ port: pair.primary.port, standby: false, ssl: true }]);
      expect(await orm.em.fork().execute(where)).toEqual([{ port: pair.primary.port, standby: false, ssl: true }]);
      await pool.query('insert into failover.writes values (1)');
      // The standby has it too (streaming), and is read-only.
      const standbyUrl = `postgres://postgres@127.0.0.1:${pair.standby.port}/postgres?sslmode=verify-full&sslrootcert=${certs.ca}`;
      await waitUntil(
        async () => (await one<{ n: number }>(standbyUrl, 'select count(*)::int as n from failover.writes')).n === 1,
      );

      await pair.primary.kill();
      // Before the promotion no server takes writes: worth waiting for, not a crash.
      const none = await chooseDatabaseHost(parseDatabaseUrl(url), 2_000).catch((e: unknown) => e);
      expect((none as Error).message).toMatch(/^no Postgres server is read-write: .*is a standby/);
      expect(isTransientDependencyError(none)).toBe(true);

      await pair.standby.promote();
      await waitUntil(async () => {
        const row = (await pool.query(where).catch(() => ({ rows: [] }))).rows[0] as { port?: number } | undefined;
        return row?.port === pair.standby.port;
      });
      expect((await pool.query(where)).rows).toEqual([{ port: pair.standby.port, standby: false, ssl: true }]);
      await pool.query('insert into failover.writes values (2)');
      const fork = () => orm!.em.fork();
      await waitUntil(
        async () =>
          (
            await fork()
              .execute<{ port: number }[]>(where)
              .catch(() => [])
          )[0]?.port === pair.standby.port,
      );
      await fork().execute('insert into failover.writes values (3)');
      expect(await fork().execute('select n from failover.writes order by n')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    } finally {
      await pool.end();
      await orm?.close(true);
    }
  });
});
