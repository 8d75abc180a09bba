import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import pg from 'pg';

/**
 * Postgres connection URLs as libpq reads them, in the one place every connection of
 * Passage goes through (docs/adr/0028-database-login-roles.md): the ORM, the pg pools, the
 * outbox relay, the key store, the migration job. node-postgres 8 reads neither several
 * hosts (`postgres://u@h1:5432,h2:5433/db`) nor `target_session_attrs`, and its reading of
 * `sslmode` is not libpq's (`require` verifies the certificate, `verify-ca` checks the
 * host name): here both are libpq's.
 *
 * Query parameters: `sslmode` (disable, allow, prefer, require, verify-ca, verify-full),
 * `sslrootcert` (a file, or `system`), `sslcert` and `sslkey` (a client certificate),
 * `target_session_attrs` (any, read-write, primary, read-only, standby), `application_name`,
 * `options`, `connect_timeout` (seconds). Any other parameter is refused, so a misspelt
 * `sslmode` cannot quietly leave a connection in plaintext. `allow` and `prefer` connect
 * without TLS: node-postgres cannot fall back from one to the other.
 */
export interface DatabaseHost {
  readonly host: string;
  readonly port: number;
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
export type TargetSessionAttrs = 'any' | 'read-write' | 'primary' | 'read-only' | 'standby';

export interface DatabaseUrl {
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string;
  readonly hosts: readonly DatabaseHost[];
  readonly params: ReadonlyMap<string, string>;
  readonly sslmode: SslMode;
  readonly targetSessionAttrs: TargetSessionAttrs;
}

const knownParams = new Set([
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'target_session_attrs',
  'application_name',
  'options',
  'connect_timeout',
]);
const sslModes: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const sessionAttrs: readonly TargetSessionAttrs[] = ['any', 'read-write', 'primary', 'read-only', 'standby'];
const urlShape = /^(postgres(?:ql)?):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/;

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Error(`the ${what} is not percent-encoded properly`);
  }
}

function parseHost(text: string): DatabaseHost {
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d+))?$/i.exec(text);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  const match = bracketed ?? plain;
  if (!match?.[1]) throw new Error(`"${text}" is not a host[:port]`);
  const port = match[2] === undefined ? 5432 : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${text}: the port is out of range`);
  return { host: decode(match[1], 'host'), port };
}

/** Reads a URL; throws an Error saying what is wrong with it (without its password). */
export function parseDatabaseUrl(url: string): DatabaseUrl {
  const match = urlShape.exec(url.trim());
  if (!match) throw new Error('not a postgres:// URL');
  const [, , userinfo = '', hostlist = '', path = '', query = ''] = match;
  const colon = userinfo.indexOf(':');
  const user = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), 'user name');
  const password = colon === -1 ? undefined : decode(userinfo.slice(colon + 1), 'password');
  if (hostlist === '') throw new Error('no host: postgres://user@host:5432/database');
  const hosts = hostlist.split(',').map(parseHost);
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(query)) {
    if (!knownParams.has(key)) {
      throw new Error(`unknown parameter "${key}" (known: ${[...knownParams].join(', ')})`);
    }
    params.set(key, value);
  }
  const sslmode = (params.get('sslmode') ?? 'prefer') as SslMode;
  if (!sslModes.includes(sslmode)) throw new Error(`sslmode=${sslmode}: one of ${sslModes.join(', ')}`);
  const targetSessionAttrs = (params.get('target_session_attrs') ?? 'any') as TargetSessionAttrs;
  if (!sessionAttrs.includes(targetSessionAttrs)) {
    throw new Error(`target_session_attrs=${targetSessionAttrs}: one of ${sessionAttrs.join(', ')}`);
  }
  const timeout = params.get('connect_timeout');
  if (timeout !== undefined && !/^\d+$/.test(timeout)) throw new Error('connect_timeout: whole seconds');
  if (sslmode === 'verify-ca' && !params.get('sslrootcert')) {
    throw new Error('sslmode=verify-ca needs sslrootcert: the CA that signed the server certificate');
  }
  const database = decode(path.replace(/^\//, ''), 'database name') || user;
  if (!database) throw new Error('no database name');
  return { user, password, database, hosts, params, sslmode, targetSessionAttrs };
}

/** The URL again, from its parts (several hosts included). */
export function formatDatabaseUrl(url: DatabaseUrl): string {
  const enc = encodeURIComponent;
  const userinfo = url.user ? `${enc(url.user)}${url.password === undefined ? '' : `:${enc(url.password)}`}@` : '';
  const hosts = url.hosts.map(({ host, port }) => `${isIP(host) === 6 ? `[${host}]` : enc(host)}:${port}`).join(',');
  const query = new URLSearchParams([...url.params]).toString();
  return `postgres://${userinfo}${hosts}/${enc(url.database)}${query ? `?${query}` : ''}`;
}

/** The same servers and settings, logging in as another user (with a password, or none). */
export function withLogin(url: string, user: string, password?: string): string {
  return formatDatabaseUrl({ ...parseDatabaseUrl(url), user, password });
}

/** The same URL with a query parameter set (e.g. `options=-c role=…`). */
export function withParam(url: string, name: string, value: string): string {
  const parsed = parseDatabaseUrl(url);
  const params = new Map(parsed.params);
  params.set(name, value);
  return formatDatabaseUrl({ ...parsed, params });
}

/** For log lines and error messages: the URL without its password. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = parseDatabaseUrl(url);
    return formatDatabaseUrl({ ...parsed, password: parsed.password === undefined ? undefined : '***' });
  } catch {
    return '(unreadable URL)';
  }
}

function readSslFile(url: DatabaseUrl, param: string): string | undefined {
  const file = url.params.get(param);
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${param}=${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  }
}

/** The TLS options libpq's sslmode stands for, with the files read. */
export function sslOptions(url: DatabaseUrl): pg.ClientConfig['ssl'] {
  if (url.sslmode === 'disable' || url.sslmode === 'allow' || url.sslmode === 'prefer') return false;
  const rootcert = url.params.get('sslrootcert');
  const ca = rootcert === 'system' ? undefined : readSslFile(url, 'sslrootcert');
  const cert = readSslFile(url, 'sslcert');
  const key = readSslFile(url, 'sslkey');
  const client = { ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  // libpq: require with a root certificate verifies the chain, as verify-ca does.
  if (url.sslmode === 'require' && !rootcert) return { rejectUnauthorized: false, ...client };
  const verifyName = url.sslmode === 'verify-full';
  return {
    rejectUnauthorized: true,
    ...(ca ? { ca } : {}),
    ...client,
    ...(verifyName ? {} : { checkServerIdentity: () => undefined }),
  };
}

/** The node-postgres settings for one host of the URL. */
function hostConfig(url: DatabaseUrl, target: DatabaseHost): pg.ClientConfig {
  const timeout = url.params.get('connect_timeout');
  const application = url.params.get('application_name');
  const options = url.params.get('options');
  return {
    user: url.user,
    database: url.database,
    host: target.host,
    port: target.port,
    ...(url.password === undefined ? {} : { password: url.password }),
    ssl: sslOptions(url),
    ...(options ? { options } : {}),
    ...(application ? { application_name: application } : {}),
    ...(timeout && timeout !== '0' ? { connectionTimeoutMillis: Number(timeout) * 1000 } : {}),
  };
}

interface HostState {
  readonly recovery: boolean;
  readonly readOnly: boolean;
}

function suits(state: HostState, attrs: TargetSessionAttrs): boolean {
  switch (attrs) {
    case 'any':
      return true;
    case 'read-write':
      return !state.recovery && !state.readOnly;
    case 'primary':
      return !state.recovery;
    case 'read-only':
      return state.recovery || state.readOnly;
    case 'standby':
      return state.recovery;
  }
}

/** Where a multi-host URL last found a suitable server: tried first next time. */
const lastChosen = new Map<string, number>();

async function probe(url: DatabaseUrl, target: DatabaseHost, timeoutMs: number): Promise<HostState> {
  const client = new pg.Client({ connectionTimeoutMillis: timeoutMs, ...hostConfig(url, target) });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<HostState>(
      `select pg_is_in_recovery() as recovery, current_setting('default_transaction_read_only') = 'on' as "readOnly"`,
    );
    return rows[0]!;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * libpq's host selection: the hosts in order (the one chosen last time first), the first
 * that accepts the connection and matches target_session_attrs. Throws when none does,
 * with a `code` that marks it as worth retrying (a failover under way).
 */
export async function chooseDatabaseHost(url: DatabaseUrl, timeoutMs = 5_000): Promise<DatabaseHost> {
  const key = formatDatabaseUrl(url);
  const first = lastChosen.get(key) ?? 0;
  const order = url.hosts.map((_, i) => (first + i) % url.hosts.length);
  const refusals: string[] = [];
  let code = '57P03';
  for (const index of order) {
    const target = url.hosts[index]!;
    try {
      const state = await probe(url, target, timeoutMs);
      if (suits(state, url.targetSessionAttrs)) {
        lastChosen.set(key, index);
        return target;
      }
      refusals.push(`${target.host}:${target.port} is ${state.recovery ? 'a standby' : 'read-only'}`);
    } catch (error) {
      const failure = error as { code?: string; message?: string };
      if (failure.code === '28P01' || failure.code === '28000' || failure.code === '3D000') throw error;
      code = failure.code ?? code;
      refusals.push(`${target.host}:${target.port}: ${failure.message ?? String(error)}`);
    }
  }
  lastChosen.delete(key);
  throw Object.assign(
    new Error(
      `no Postgres server is ${url.targetSessionAttrs === 'any' ? 'reachable' : url.targetSessionAttrs}: ${refusals.join('; ')}`,
    ),
    { code },
  );
}

type ConnectCallback = (error: Error | null, client?: pg.Client) => void;

const clientClasses = new Map<string, typeof pg.Client>();

/**
 * A node-postgres Client class bound to the URL: `new Class()` (or a pool's `Client`
 * option) connects as the URL says, TLS included; with several hosts or a
 * target_session_attrs, each connection first chooses its server (chooseDatabaseHost), so
 * a pool's new connections follow a failover. Settings given to the constructor (a pool's
 * application_name or connection timeout) apply unless the URL has its own.
 */
export function databaseClientClass(url: string): typeof pg.Client {
  const known = clientClasses.get(url);
  if (known) return known;
  const parsed = parseDatabaseUrl(url);
  const first = hostConfig(parsed, parsed.hosts[0]!);
  const choosing = parsed.hosts.length > 1 || parsed.targetSessionAttrs !== 'any';
  class DatabaseClient extends pg.Client {
    readonly #timeoutMs: number;

    constructor(config: pg.ClientConfig = {}) {
      const { connectionString: _ignored, ...rest } = config;
      super({ ...rest, ...first });
      this.#timeoutMs = first.connectionTimeoutMillis ?? rest.connectionTimeoutMillis ?? 5_000;
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      if (!choosing) return callback ? super.connect(callback) : super.connect();
      const connecting = chooseDatabaseHost(parsed, this.#timeoutMs).then((target) => {
        this.host = target.host;
        this.port = target.port;
        return super.connect();
      });
      if (!callback) return connecting;
      connecting.then(
        (client) => callback(null, client),
        (error: unknown) => callback(error as Error),
      );
    }
  }
  clientClasses.set(url, DatabaseClient);
  return DatabaseClient;
}

/** One connection as the URL says (not yet connected). */
export function databaseClient(url: string, config: pg.ClientConfig = {}): pg.Client {
  const Client = databaseClientClass(url);
  return new Client(config);
}
