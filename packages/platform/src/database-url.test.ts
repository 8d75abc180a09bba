import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config.ts';
import { checkDatabaseUrl } from './db.ts';
import {
  databaseClient,
  formatDatabaseUrl,
  parseDatabaseUrl,
  redactDatabaseUrl,
  withLogin,
  withParam,
} from './database-url.ts';

const dir = mkdtempSync(join(tmpdir(), 'passage-url-'));
const ca = join(dir, 'ca.crt');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Postgres URLs as libpq reads them', () => {
  it('reads several hosts, each with its port, and target_session_attrs', () => {
    const url = parseDatabaseUrl(
      'postgres://svc:p%40ss@db-1.internal:5432,db-2.internal:5433,[::1]/passage?target_session_attrs=read-write',
    );
    expect(url.hosts).toEqual([
      { host: 'db-1.internal', port: 5432 },
      { host: 'db-2.internal', port: 5433 },
      { host: '::1', port: 5432 },
    ]);
    expect(url).toMatchObject({ user: 'svc', password: 'p@ss', database: 'passage', targetSessionAttrs: 'read-write' });
    expect(url.sslmode).toBe('prefer');
  });

  it('writes the same URL back, and swaps the login or a parameter without touching the rest', () => {
    const text = `postgres://svc@h1:5432,h2:5433/passage?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
    expect(parseDatabaseUrl(formatDatabaseUrl(parseDatabaseUrl(text)))).toEqual(parseDatabaseUrl(text));
    const other = parseDatabaseUrl(withLogin(text, 'passage_audit', 'sec ret'));
    expect(other).toMatchObject({ user: 'passage_audit', password: 'sec ret', sslmode: 'verify-full' });
    expect(other.hosts).toHaveLength(2);
    expect(parseDatabaseUrl(withParam(text, 'options', '-c role=x')).params.get('options')).toBe('-c role=x');
    expect(redactDatabaseUrl('postgres://a:secret@h/db')).toBe('postgres://a:***@h:5432/db');
  });

  it('refuses what libpq would not take, and a parameter it does not know', () => {
    expect(() => parseDatabaseUrl('mysql://h/db')).toThrow('not a postgres:// URL');
    expect(() => parseDatabaseUrl('postgres://u@h/db?ssl_mode=verify-full')).toThrow(/unknown parameter "ssl_mode"/);
    expect(() => parseDatabaseUrl('postgres://u@h/db?sslmode=strict')).toThrow(/sslmode=strict/);
    expect(() => parseDatabaseUrl('postgres://u@h/db?sslmode=verify-ca')).toThrow(/needs sslrootcert/);
    expect(() => parseDatabaseUrl('postgres://u@h:99999/db')).toThrow(/port is out of range/);
    expect(() => parseDatabaseUrl('postgres://u@h/db?target_session_attrs=prefer-standby')).toThrow(
      /target_session_attrs/,
    );
  });

  it('builds node-postgres settings with libpq sslmode meanings', () => {
    const settings = (url: string) => {
      const client = databaseClient(url) as unknown as { connectionParameters: { ssl: unknown } };
      return client.connectionParameters.ssl;
    };
    expect(settings('postgres://u@h/db')).toBe(false);
    expect(settings('postgres://u@h/db?sslmode=require')).toEqual({ rejectUnauthorized: false });
    expect(settings(`postgres://u@h/db?sslmode=verify-full&sslrootcert=${ca}`)).toEqual({
      rejectUnauthorized: true,
      ca: expect.stringContaining('not really') as unknown,
    });
    const verifyCa = settings(`postgres://u@h/db?sslmode=verify-ca&sslrootcert=${ca}`) as {
      checkServerIdentity?: () => undefined;
    };
    expect(verifyCa.checkServerIdentity?.()).toBeUndefined();
  });
});

describe('TLS outside development', () => {
  it('is required, with the server certificate checked; development may go without', () => {
    const refused = (url: string) => () => checkDatabaseUrl('DATABASE_URL', url, 'production');
    expect(refused('postgres://u@h/db')).toThrow(ConfigError);
    expect(refused('postgres://u@h/db')).toThrow(
      /DATABASE_URL: outside development Postgres is reached over TLS: add sslmode=verify-full&sslrootcert=<CA file> to the URL \(sslmode is not set/,
    );
    expect(refused('postgres://u@h/db?sslmode=require')).toThrow(/sslmode is require/);
    expect(() =>
      checkDatabaseUrl('DATABASE_URL', `postgres://u@h/db?sslmode=verify-full&sslrootcert=${ca}`, 'production'),
    ).not.toThrow();
    expect(() => checkDatabaseUrl('DATABASE_URL', 'postgres://u@h/db', 'development')).not.toThrow();
    expect(refused(`postgres://u@h/db?sslmode=verify-full&sslrootcert=${join(dir, 'missing.crt')}`)).toThrow(
      /DATABASE_URL: sslrootcert=.*missing\.crt cannot be read \(ENOENT\)/,
    );
  });
});
