import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { migrateServiceDatabases, type ServiceDatabases } from './db-roles.ts';
import { writeDevCertificates, type DevCertificateFiles } from './dev-certificates.ts';

/** A party's mutual-TLS settings in a test: as a service reads them, and as a client in the test connects. */
export interface TestTls {
  /** The folder of the CA and every certificate made so far in this process. */
  readonly dir: string;
  /** GRPC_TLS_CA_FILE, GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE of the party's certificate. */
  readonly env: Readonly<Record<'GRPC_TLS_CA_FILE' | 'GRPC_TLS_CERT_FILE' | 'GRPC_TLS_KEY_FILE', string>>;
  /** A gRPC client's credentials presenting the party's certificate and trusting the CA. */
  readonly clientCredentials: grpc.ChannelCredentials;
}

let made: { dir: string; files: DevCertificateFiles } | undefined;

/**
 * Development certificates for tests (writeDevCertificates, with openssl): one CA per test
 * process, in a temporary folder removed when the process exits, and a certificate for
 * `name` made the first time it is asked for. Every certificate carries its name, localhost
 * and 127.0.0.1, so a client checks the server by the address it dials.
 */
export function testTls(name = 'test'): TestTls {
  if (!made) {
    const dir = mkdtempSync(join(tmpdir(), 'passage-test-tls-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    made = { dir, files: writeDevCertificates({ dir, names: [] }) };
  }
  const { dir, files } = made;
  if (!existsSync(files.cert(name)) || !existsSync(files.key(name))) writeDevCertificates({ dir, names: [name] });
  return {
    dir,
    env: { GRPC_TLS_CA_FILE: files.ca, GRPC_TLS_CERT_FILE: files.cert(name), GRPC_TLS_KEY_FILE: files.key(name) },
    clientCredentials: clientCredentialsFrom(dir, name),
  };
}

/** A client presenting `<name>.crt` from a folder `passage certs dev` (or testTls) wrote, trusting its `ca.crt`. */
export function clientCredentialsFrom(dir: string, name: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    readFileSync(join(dir, 'ca.crt')),
    readFileSync(join(dir, `${name}.key`)),
    readFileSync(join(dir, `${name}.crt`)),
  );
}

/**
 * A test database's template (for `createTestDatabase(label, { template })` of @passage/testing):
 * these services' migration jobs run, in this order, on an empty database — what each service's
 * own job at its start would do first, so that the job then finds nothing pending (it still runs
 * and checks the grants). Named by a hash of every migration's SQL, name, schema and grants and
 * of the job itself: a changed migration is a new template, never a stale one.
 */
export function migratedTemplate(services: readonly ServiceDatabases[]): {
  readonly key: string;
  build(url: string): Promise<void>;
} {
  const hash = createHash('sha256');
  hash.update(`template 1\n${migrateServiceDatabases.toString()}\n`);
  for (const databases of services) {
    hash.update(`service ${databases.service}\n${databases.afterMigrations?.toString() ?? ''}\n`);
    for (const plan of databases.schemas) {
      hash.update(JSON.stringify({ schema: plan.schema, database: plan.database, grants: plan.grants }));
      for (const migration of plan.migrations) hash.update(`\n${migration.name}\n${migrationSql(migration)}`);
    }
  }
  return {
    key: hash.digest('hex').slice(0, 32),
    async build(url) {
      for (const databases of services) await migrateServiceDatabases(databases, { admin: { data: url } });
    },
  };
}

/** The SQL a migration adds (its `up`, which only calls addSql), without a database. */
function migrationSql(migration: ServiceDatabases['schemas'][number]['migrations'][number]): string {
  const Class = migration.class as unknown as new (
    driver: unknown,
    config: unknown,
  ) => {
    up(): void | Promise<void>;
    getQueries(): unknown[];
  };
  const instance = new Class(undefined, undefined);
  const result = instance.up();
  if (result instanceof Promise)
    throw new Error(`${migration.name}: an asynchronous up() cannot be hashed for a template`);
  return JSON.stringify(instance.getQueries());
}
