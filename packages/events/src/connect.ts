import { X509Certificate, createPrivateKey } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { AuthorizationError, PermissionViolationError, type NatsConnection } from '@nats-io/nats-core';
import { ConfigError, createLogger, untilAvailable, type Logger } from '@passage/platform';
import { natsInboxPrefix } from './permissions.ts';

/** The settings a NATS connection is made from (the base configuration's). */
export interface NatsSettings {
  readonly NATS_URL: string;
  readonly NATS_TLS_CA?: string | undefined;
  readonly NATS_TLS_CERT?: string | undefined;
  readonly NATS_TLS_KEY?: string | undefined;
  readonly NATS_USER?: string | undefined;
  readonly NATS_PASSWORD?: string | undefined;
  readonly PASSAGE_ENV?: string | undefined;
}

/** NATS refused this service: a wrong user or password, a certificate it cannot trust, a permission it lacks. */
export class NatsRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NatsRefusedError';
  }
}

const present = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

function pemProblem(name: string, value: string, kind: 'certificate' | 'key'): string | undefined {
  try {
    if (kind === 'certificate') new X509Certificate(value);
    else createPrivateKey(value);
    return undefined;
  } catch {
    return `${name}: not a PEM ${kind === 'certificate' ? 'certificate' : 'private key'}; give the PEM text, or ${name}_FILE=<path of the file>`;
  }
}

/**
 * The connection options for `name` (a service, whose replies arrive under its own inbox
 * prefix), or a ConfigError naming each bad setting. Outside development NATS is reached only
 * over TLS, verified against NATS_TLS_CA, as a user with a password: never a silent plaintext.
 */
export function natsConnectionOptions(settings: NatsSettings, name: string): NodeConnectionOptions {
  const issues: string[] = [];
  const development = settings.PASSAGE_ENV === 'development';
  const { NATS_TLS_CA: ca, NATS_TLS_CERT: cert, NATS_TLS_KEY: key, NATS_USER: user, NATS_PASSWORD: pass } = settings;
  if (!present(ca) && !development) {
    issues.push(
      'NATS_TLS_CA is required outside development: set it (or NATS_TLS_CA_FILE) to the CA certificate that signed the NATS servers’ certificates',
    );
  }
  if (!(present(user) && present(pass)) && !development) {
    issues.push(
      `NATS_USER and NATS_PASSWORD are required outside development: set them to this service's NATS user ("${name}" in deploy/nats/authorization.conf) and its password`,
    );
  } else if (present(user) !== present(pass)) {
    issues.push('NATS_USER and NATS_PASSWORD go together: set both, or neither (development only)');
  }
  if (present(cert) !== present(key)) {
    issues.push(
      'NATS_TLS_CERT and NATS_TLS_KEY go together: set both (the client certificate and its key), or neither',
    );
  }
  if ((present(cert) || present(key)) && !present(ca)) {
    issues.push('NATS_TLS_CERT needs NATS_TLS_CA: set the CA that signed the NATS servers’ certificates');
  }
  for (const [setting, value, kind] of [
    ['NATS_TLS_CA', ca, 'certificate'],
    ['NATS_TLS_CERT', cert, 'certificate'],
    ['NATS_TLS_KEY', key, 'key'],
  ] as const) {
    const problem = present(value) ? pemProblem(setting, value, kind) : undefined;
    if (problem) issues.push(problem);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    servers: settings.NATS_URL.split(',')
      .map((server) => server.trim())
      .filter(Boolean),
    name,
    inboxPrefix: natsInboxPrefix(name),
    ...(present(user) && present(pass) ? { user, pass } : {}),
    ...(present(ca) ? { tls: { ca, ...(present(cert) && present(key) ? { cert, key } : {}) } } : {}),
    // Once connected, never give up reconnecting: a service that stopped trying after a long
    // NATS outage would sit idle while reporting itself alive. Outbox rows wait meanwhile.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // A password rotated on the servers before the service's Secret: keep trying, and say so.
    ignoreAuthErrorAbort: true,
  };
}

const clientCertificateLine =
  'NATS asks for a client certificate: set NATS_TLS_CERT and NATS_TLS_KEY (a certificate signed by the NATS CA)';

function chain(error: unknown): { name: string; code: string; message: string }[] {
  const found = [];
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { name, code, message } = current as { name?: unknown; code?: unknown; message?: unknown };
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    found.push({ name: text(name), code: text(code), message: text(message) });
    current = (current as { cause?: unknown }).cause;
  }
  return found;
}

/**
 * One line for a refusal that waiting will not mend (a wrong password or CA, TLS on one side
 * only), or undefined for a server that is down or restarting.
 */
export function natsRefusal(error: unknown, settings: NatsSettings, name: string): string | undefined {
  const causes = chain(error);
  const has = (pattern: RegExp) =>
    causes.some((c) => pattern.test(c.name) || pattern.test(c.code) || pattern.test(c.message));
  const user = present(settings.NATS_USER) ? settings.NATS_USER : '(none)';
  if (error instanceof AuthorizationError || has(/authorization violation|authentication/i)) {
    return `NATS refused user "${user}": check NATS_USER/NATS_PASSWORD against the server's ${name.toUpperCase()}_NATS_PASSWORD (deploy/nats/authorization.conf)`;
  }
  if (has(/server does not support 'tls'/i)) {
    return 'NATS does not offer TLS but NATS_TLS_CA asks for it: enable TLS on the servers (deploy/nats/nats.conf)';
  }
  if (has(/certificate required|CERTIFICATE_REQUIRED|handshake failure/i)) return clientCertificateLine;
  if (
    has(
      /CERT|self[- ]signed|unable to (get|verify)|certificate (has expired|is not yet valid)|Hostname\/IP does not match|altnames/i,
    )
  ) {
    const found = causes.find((c) => /CERT|self|verify|altnames/i.test(`${c.code} ${c.message}`));
    // Node's own advice after the ";" (system CAs) does not apply: the CA is a setting here.
    const detail = found && { message: found.message.split(';')[0] };
    return present(settings.NATS_TLS_CA)
      ? `NATS's certificate is not trusted (${detail?.message ?? 'verification failed'}): NATS_TLS_CA must be the CA that signed the NATS servers' certificates, for the host in NATS_URL`
      : `NATS requires TLS: set NATS_TLS_CA to the CA that signed the NATS servers' certificates (${detail?.message ?? 'verification failed'})`;
  }
  return undefined;
}

/**
 * Whether the server's INFO says it verifies client certificates. Over TLS 1.3 a server that
 * refuses a client without one does so after the client's side of the handshake, and nats.js
 * only sees a timeout; the INFO line, sent in the clear before TLS starts, says why.
 */
function asksForClientCertificate(server: string, timeoutMs = 2_000): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(server.includes('://') ? server : `nats://${server}`);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const socket = connectTcp({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 4222) });
    let text = '';
    const done = (verdict: boolean) => {
      socket.destroy();
      resolve(verdict);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\r\n');
      if (end < 0) {
        if (text.length > 64_000) done(false);
        return;
      }
      try {
        const info = JSON.parse(text.slice(0, end).replace(/^INFO\s+/, '')) as { tls_verify?: boolean };
        done(info.tls_verify === true);
      } catch {
        done(false);
      }
    });
  });
}

/** A server down, restarting or not yet resolvable: worth waiting for. */
function isUnavailable(error: unknown): boolean {
  return chain(error).some(
    (c) =>
      /ConnectionError|TimeoutError/.test(c.name) ||
      /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE/.test(c.code),
  );
}

/** A subject with its per-message tokens (an ack's sequences, an inbox's random id) folded into `>`. */
function subjectKind(subject: string): string {
  const tokens = subject.split('.');
  if (subject.startsWith('$JS.ACK.') && tokens.length > 4) return `${tokens.slice(0, 4).join('.')}.>`;
  if (subject.startsWith('_INBOX.') && tokens.length > 2) return `${tokens.slice(0, 2).join('.')}.>`;
  return subject;
}

/** The one line for a permission the user lacks. */
function permissionLine(violation: PermissionViolationError, user: string, name: string): string {
  const verb = violation.operation === 'subscription' ? 'subscribe to' : 'publish to';
  return (
    `NATS user "${user}" may not ${verb} "${subjectKind(violation.subject)}": give the ${name} service its own user ` +
    `(NATS_USER=${name}) with the permissions of deploy/nats/authorization.conf (pnpm gen), and reload the NATS servers`
  );
}

interface AccessWatch {
  readonly refusals: string[];
}

const watches = new WeakMap<NatsConnection, AccessWatch>();

/**
 * Whether NATS has refused anything this connection asked so far: once the server has read
 * everything sent (a round trip), a permission it refused is a NatsRefusedError with one line
 * naming the user and the subject. Called at the end of a start, so that a service whose user
 * lacks a permission refuses to start instead of waiting for events that never come.
 */
export async function confirmNatsAccess(nc: NatsConnection): Promise<void> {
  await nc.flush();
  // The server's -ERR came before its PONG; the status listener hears of it a few ticks later.
  await new Promise((resolve) => setImmediate(resolve));
  const refusal = watches.get(nc)?.refusals[0];
  if (refusal) throw new NatsRefusedError(refusal);
}

/**
 * Connects `name` to NATS with the settings' TLS and user. A server not answering yet is waited
 * for with backoff (a log line per try); a refusal (wrong password or CA, TLS on one side only)
 * ends the wait at once with one line naming the setting to fix. Once connected, the connection
 * reconnects for as long as the process runs, and every refusal is logged.
 */
export async function connectNats(
  settings: NatsSettings,
  name: string,
  log: Logger = createLogger(name, 'silent'),
  signal?: AbortSignal,
): Promise<NatsConnection> {
  const options = natsConnectionOptions(settings, name);
  const nc = await untilAvailable(
    'NATS',
    async () => {
      try {
        const first = Array.isArray(options.servers) ? options.servers[0] : options.servers;
        const certless = present(settings.NATS_TLS_CA) && !present(settings.NATS_TLS_CERT);
        if (certless && first && (await asksForClientCertificate(first))) {
          throw new NatsRefusedError(clientCertificateLine);
        }
        return await connect(options);
      } catch (error) {
        if (error instanceof NatsRefusedError) throw error;
        const refusal = natsRefusal(error, settings, name);
        if (refusal) throw new NatsRefusedError(refusal, { cause: error });
        throw error;
      }
    },
    log,
    { retryable: isUnavailable, ...(signal ? { signal } : {}) },
  );
  const watch: AccessWatch = { refusals: [] };
  watches.set(nc, watch);
  const user = present(settings.NATS_USER) ? settings.NATS_USER : '(none)';
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type !== 'error') continue;
      const line =
        status.error instanceof PermissionViolationError
          ? permissionLine(status.error, user, name)
          : natsRefusal(status.error, settings, name);
      if (!line) continue;
      // Each refusal once: a relay retrying every second would otherwise repeat it.
      if (!watch.refusals.includes(line)) log.error(line);
      if (watch.refusals.length < 100 && !watch.refusals.includes(line)) watch.refusals.push(line);
    }
  })().catch(() => undefined);
  return nc;
}
