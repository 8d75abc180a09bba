import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrivateServer } from './private-servers.ts';
import { sparePort, waitForPort } from './servers.ts';

const pgBinDir = process.env['PG_BIN_DIR'] ?? '/usr/lib/postgresql/15/bin';

/** A server certificate for Postgres, as writeDevCertificates (@passage/platform) makes them. */
export interface PostgresTls {
  /** The CA file clients check the server against (and the server checks client certificates against). */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface PrivatePostgresOptions {
  /** ssl=on with this certificate. */
  readonly tls?: PostgresTls;
  /** Only TLS connections accepted (hostssl), plaintext ones refused. Needs `tls`. */
  readonly requireTls?: boolean;
  /**
   * With requireTls, how clients prove who they are: `trust` (the default) or `cert`, a client
   * certificate signed by the CA whose common name is the user name (replication stays trust).
   */
  readonly auth?: 'trust' | 'cert';
}

export interface PrivatePostgres extends PrivateServer {
  /** `pg_ctl promote`: a standby becomes a primary and takes writes. */
  promote(): Promise<void>;
}

/** Postgres refuses to run as root: as root, its commands run as the `postgres` user. */
const asOwner = (command: string, args: readonly string[]): [string, string[]] =>
  process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];

function run(command: string, args: readonly string[]): void {
  const [cmd, argv] = asOwner(join(pgBinDir, command), args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.error?.message}`);
}

/** Files the server reads must belong to the user it runs as. */
function giveToServer(path: string): void {
  if (process.getuid?.() !== 0) return;
  const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim();
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim();
  chownSync(path, Number(ids), Number(gid));
}

function newDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}

/** Certificate, key and CA into the data folder, and ssl on; with requireTls, a pg_hba of hostssl lines only. */
function configureTls(dataDir: string, options: PrivatePostgresOptions): void {
  const { tls } = options;
  if (!tls) return;
  for (const [from, to] of [
    [tls.cert, 'server.crt'],
    [tls.key, 'server.key'],
    [tls.ca, 'root.crt'],
  ] as const) {
    copyFileSync(from, join(dataDir, to));
    chmodSync(join(dataDir, to), 0o600);
    giveToServer(join(dataDir, to));
  }
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n",
  );
  if (options.requireTls) {
    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      [
        'local all all trust',
        `hostssl all all 127.0.0.1/32 ${options.auth ?? 'trust'}`,
        'hostssl replication all 127.0.0.1/32 trust',
        '',
      ].join('\n'),
    );
    giveToServer(join(dataDir, 'pg_hba.conf'));
  }
}

/** A cluster in `dataDir` served on `port`: started, killed, restarted, promoted, disposed of. */
async function serve(dir: string, dataDir: string, port: number): Promise<PrivatePostgres> {
  const start = async (): Promise<void> => {
    run('pg_ctl', [
      '-D',
      dataDir,
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
    await waitForPort(port);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    kill() {
      run('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
      return Promise.resolve();
    },
    restart: start,
    promote() {
      run('pg_ctl', ['-D', dataDir, '-w', 'promote']);
      return Promise.resolve();
    },
    dispose() {
      spawnSync(...asOwner(join(pgBinDir, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', 'stop']));
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/**
 * A PostgreSQL cluster of its own on a spare port (initdb + pg_ctl), trust authentication on
 * 127.0.0.1; with `tls`, ssl on with that certificate (and, with `requireTls`, TLS only).
 * Postgres refuses to run as root, so as root it runs as the `postgres` user.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const port = await sparePort();
  const dir = newDir('passage-pg-');
  const dataDir = join(dir, 'data');
  run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  configureTls(dataDir, options);
  return serve(dir, dataDir, port);
}

export interface PrivatePostgresPair {
  readonly primary: PrivatePostgres;
  /** Streaming from the primary (pg_basebackup -R), read-only until promoted. */
  readonly standby: PrivatePostgres;
  /**
   * A multi-host URL naming the primary then the standby, for `database`, with these query
   * parameters (target_session_attrs=read-write by default; sslmode and the rest as given).
   */
  url(database?: string, params?: Record<string, string>): string;
  dispose(): Promise<void>;
}

/**
 * A primary and a streaming standby on spare ports of 127.0.0.1, as the loopback cluster and
 * failover tests need: the standby is a pg_basebackup -R of the primary, replicating until
 * `standby.promote()`. With `tls`, both serve TLS with that certificate (the standby's copied
 * with the data folder). Stop the primary with `primary.kill()`.
 */
export async function startPrivatePostgresPair(options: PrivatePostgresOptions = {}): Promise<PrivatePostgresPair> {
  const primary = await startPrivatePostgres(options);
  const dir = newDir('passage-pg-standby-');
  const dataDir = join(dir, 'data');
  const port = await sparePort();
  try {
    const source = `host=127.0.0.1 port=${primary.port} user=postgres${options.tls ? ' sslmode=require' : ''}`;
    run('pg_basebackup', ['-d', source, '-D', dataDir, '-R', '-X', 'stream', '--no-sync']);
  } catch (error) {
    await primary.dispose();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const standby = await serve(dir, dataDir, port);
  return {
    primary,
    standby,
    url(database = 'postgres', params = {}) {
      const query = new URLSearchParams({ target_session_attrs: 'read-write', ...params }).toString();
      return `postgres://postgres@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/${database}?${query}`;
    },
    async dispose() {
      await standby.dispose();
      await primary.dispose();
    },
  };
}
