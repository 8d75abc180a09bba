import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { healthStatus, plaintextCredentials } from '@passage/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  baseConfigSchema,
  createLogger,
  grpcTransport,
  loadConfig,
  startGrpcServer,
  writeDevCertificates,
  type GrpcTlsSettings,
  type RunningGrpcServer,
} from '../src/index.ts';

// Transport security as a service meets it at start, from its settings, and as a client meets
// it on a real gRPC server: which settings are enough, which refuse, and who gets through.
const dir = mkdtempSync(join(tmpdir(), 'passage-tls-'));
const files = writeDevCertificates({ dir: join(dir, 'ours'), names: ['referrals', 'cli'] });
const other = writeDevCertificates({ dir: join(dir, 'other'), names: ['referrals', 'cli'] });
// Issued by our CA, expired yesterday (openssl takes negative days): the CA is already there.
const expired = writeDevCertificates({ dir: join(dir, 'ours'), names: ['expired'], days: -1 });
/** A certificate from our CA for one extended key usage only, as a careless issuer might make it. */
function onlyFor(usage: 'serverAuth' | 'clientAuth'): { cert: string; key: string } {
  const at = join(dir, 'ours');
  const run = (...args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: at, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(result.stderr);
  };
  writeFileSync(join(at, `${usage}.ext`), `extendedKeyUsage=${usage}\nsubjectAltName=DNS:localhost\n`);
  run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${usage}.key`);
  run('req', '-new', '-key', `${usage}.key`, '-subj', `/CN=${usage}`, '-out', `${usage}.csr`);
  run(
    'x509',
    '-req',
    '-in',
    `${usage}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-days',
    '1',
    '-extfile',
    `${usage}.ext`,
    '-out',
    `${usage}.crt`,
  );
  return { cert: pem(join(at, `${usage}.crt`)), key: pem(join(at, `${usage}.key`)) };
}
const servers: RunningGrpcServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.shutdown(100);
  rmSync(dir, { recursive: true, force: true });
});

const pem = (path: string) => readFileSync(path, 'utf8');
const ours = (name: string) => ({
  GRPC_TLS_CA: pem(files.ca),
  GRPC_TLS_CERT: pem(files.cert(name)),
  GRPC_TLS_KEY: pem(files.key(name)),
});

/** A logger that keeps what it was told. */
function recording() {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    warn: (_fields: object, message: string) => lines.push({ level: 'warn', message }),
    info: (_fields: object, message: string) => lines.push({ level: 'info', message }),
  };
}

/** The one line a refused setting gives, after ConfigError's heading. */
function refusal(settings: GrpcTlsSettings, role?: 'service' | 'client'): string {
  try {
    grpcTransport(settings, recording(), role);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength(2);
    return lines[1]!.trim();
  }
  throw new Error('the settings were accepted');
}

describe('grpcTransport: the settings', () => {
  it('is mutual TLS with all three settings, in production and in development, read from files as well', () => {
    for (const PASSAGE_ENV of ['production', 'development'] as const) {
      const log = recording();
      expect(grpcTransport({ PASSAGE_ENV, ...ours('referrals') }, log).security).toBe('mutual-tls');
      expect(log.lines).toEqual([{ level: 'info', message: 'gRPC over mutual TLS' }]);
    }
    const fromFiles = loadConfig(baseConfigSchema, {
      GRPC_TLS_CA_FILE: files.ca,
      GRPC_TLS_CERT_FILE: files.cert('referrals'),
      GRPC_TLS_KEY_FILE: files.key('referrals'),
    });
    expect(fromFiles.PASSAGE_ENV).toBe('production');
    expect(grpcTransport(fromFiles, recording()).security).toBe('mutual-tls');
  });

  it('is plaintext without them only in development, with one warning', () => {
    const log = recording();
    expect(grpcTransport({ PASSAGE_ENV: 'development' }, log).security).toBe('plaintext');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.level).toBe('warn');
    expect(log.lines[0]!.message).toMatch(/^gRPC without TLS/);
    // Empty values count as unset.
    const empty = { GRPC_TLS_CA: '', GRPC_TLS_CERT: '', GRPC_TLS_KEY: '' };
    expect(grpcTransport({ PASSAGE_ENV: 'development', ...empty }, recording()).security).toBe('plaintext');

    for (const settings of [{ PASSAGE_ENV: 'production' as const }, { PASSAGE_ENV: 'production' as const, ...empty }]) {
      expect(refusal(settings)).toMatch(
        /^GRPC_TLS_CA, GRPC_TLS_CERT, GRPC_TLS_KEY: not set — outside PASSAGE_ENV=development gRPC runs only over mutual TLS: .*`pnpm passage certs dev --out DIR`/,
      );
    }
  });

  it('refuses some of the three in either environment, naming the missing ones', () => {
    const all = ours('referrals');
    for (const PASSAGE_ENV of ['production', 'development'] as const) {
      expect(refusal({ PASSAGE_ENV, GRPC_TLS_CA: all.GRPC_TLS_CA })).toMatch(
        /^GRPC_TLS_CERT, GRPC_TLS_KEY: not set, while GRPC_TLS_CA is — mutual TLS needs all three .*certs dev/,
      );
      expect(refusal({ PASSAGE_ENV, GRPC_TLS_CERT: all.GRPC_TLS_CERT, GRPC_TLS_KEY: all.GRPC_TLS_KEY })).toMatch(
        /^GRPC_TLS_CA: not set, while GRPC_TLS_CERT, GRPC_TLS_KEY are — /,
      );
    }
  });

  it('refuses a certificate from another CA, a key that is not the certificate’s and an expired certificate', () => {
    const all = ours('referrals');
    expect(refusal({ PASSAGE_ENV: 'production', ...all, GRPC_TLS_CA: pem(other.ca) })).toBe(
      'GRPC_TLS_CERT: the certificate was not issued by GRPC_TLS_CA — make both with `pnpm passage certs dev --out DIR` or take them from the same issuer',
    );
    expect(refusal({ PASSAGE_ENV: 'production', ...all, GRPC_TLS_KEY: pem(files.key('cli')) })).toBe(
      'GRPC_TLS_KEY: the key does not belong to the certificate in GRPC_TLS_CERT — give the key that was made with it',
    );
    expect(
      refusal({
        PASSAGE_ENV: 'production',
        ...all,
        GRPC_TLS_CERT: pem(expired.cert('expired')),
        GRPC_TLS_KEY: pem(expired.key('expired')),
      }),
    ).toMatch(/^GRPC_TLS_CERT: the certificate CN=expired expired on \d{4}-\d\d-\d\dT.* — issue a new one/);
  });

  it('refuses what is not a certificate, a key or a CA, naming the setting', () => {
    const all = ours('referrals');
    expect(refusal({ PASSAGE_ENV: 'production', ...all, GRPC_TLS_CERT: files.cert('referrals') })).toBe(
      'GRPC_TLS_CERT: no PEM certificate (-----BEGIN CERTIFICATE-----) in it — a path goes in GRPC_TLS_CERT_FILE',
    );
    expect(refusal({ PASSAGE_ENV: 'production', ...all, GRPC_TLS_KEY: 'not a key' })).toMatch(
      /^GRPC_TLS_KEY: not a PEM private key/,
    );
    expect(refusal({ PASSAGE_ENV: 'production', ...all, GRPC_TLS_CA: all.GRPC_TLS_CERT })).toMatch(
      /^GRPC_TLS_CA: not a CA certificate/,
    );
    const broken = all.GRPC_TLS_CERT.replace(/\n([A-Za-z0-9+/]{10})/, '\n!!!!!!!!!!');
    expect(refusal({ PASSAGE_ENV: 'production', ...all, GRPC_TLS_CERT: broken })).toMatch(
      /^GRPC_TLS_CERT: a certificate in it does not parse/,
    );
  });

  it('refuses a service certificate that is not for both server and client authentication', () => {
    const ca = pem(files.ca);
    for (const usage of ['serverAuth', 'clientAuth'] as const) {
      const { cert, key } = onlyFor(usage);
      expect(refusal({ PASSAGE_ENV: 'production', GRPC_TLS_CA: ca, GRPC_TLS_CERT: cert, GRPC_TLS_KEY: key })).toMatch(
        /^GRPC_TLS_CERT: the certificate is not for both TLS server and client authentication/,
      );
    }
    // The command line only calls: client authentication is enough, server-only is not.
    const client = onlyFor('clientAuth');
    const settings = { PASSAGE_ENV: 'production' as const, GRPC_TLS_CA: ca };
    expect(
      grpcTransport({ ...settings, GRPC_TLS_CERT: client.cert, GRPC_TLS_KEY: client.key }, recording(), 'client')
        .security,
    ).toBe('mutual-tls');
    const server = onlyFor('serverAuth');
    expect(refusal({ ...settings, GRPC_TLS_CERT: server.cert, GRPC_TLS_KEY: server.key }, 'client')).toMatch(
      /^GRPC_TLS_CERT: the certificate is not for TLS client authentication/,
    );
  });
});

describe('grpcTransport: a real gRPC server over mutual TLS', () => {
  const log = createLogger('tls-test', 'silent');

  async function tlsServer(): Promise<RunningGrpcServer> {
    const transport = grpcTransport({ PASSAGE_ENV: 'production', ...ours('referrals') }, log);
    const server = await startGrpcServer(
      { services: [], descriptorSet: Buffer.alloc(0), log, transport },
      { GRPC_HOST: '127.0.0.1', GRPC_PORT: 0 },
    );
    servers.push(server);
    return server;
  }

  const client = (name: string, of = files, trusting = files) =>
    grpc.credentials.createSsl(readFileSync(trusting.ca), readFileSync(of.key(name)), readFileSync(of.cert(name)));

  /** The health check's answer, or the gRPC status name of its failure. */
  const ask = (address: string, credentials: grpc.ChannelCredentials) =>
    healthStatus(address, '', credentials).catch((error: unknown) => grpc.status[(error as grpc.ServiceError).code]);

  it('answers a client with a certificate from its CA, by address and by name', async () => {
    const server = await tlsServer();
    const cli = grpcTransport({ PASSAGE_ENV: 'production', ...ours('cli') }, recording(), 'client');
    expect(await ask(server.address, cli.clientCredentials)).toBe('SERVING');
    expect(await ask(`localhost:${server.port}`, cli.clientCredentials)).toBe('SERVING');
  });

  it('refuses a plaintext client, a client with another CA’s certificate and a client without one', async () => {
    const server = await tlsServer();
    expect(await ask(server.address, plaintextCredentials())).toBe('UNAVAILABLE');
    // It trusts the server, but its own certificate is another CA's.
    expect(await ask(server.address, client('cli', other, files))).toBe('UNAVAILABLE');
    expect(await ask(server.address, grpc.credentials.createSsl(readFileSync(files.ca)))).toBe('UNAVAILABLE');
    // The right certificate, but it trusts another CA: the server is refused.
    expect(await ask(server.address, client('cli', files, other))).toBe('UNAVAILABLE');
    expect(await ask(server.address, client('cli'))).toBe('SERVING');
  });

  it('checks the server’s name: a server whose certificate does not carry the name dialled is refused', async () => {
    const server = await tlsServer();
    // As if `directory:PORT` had been dialled and answered by the referrals service.
    const address = server.address;
    const misnamed = new grpc.Client(address, client('cli'), { 'grpc.ssl_target_name_override': 'directory' });
    const ready = await new Promise<Error | undefined>((resolve) =>
      misnamed.waitForReady(Date.now() + 5_000, (error) => resolve(error)),
    );
    misnamed.close();
    expect(ready).toBeInstanceOf(Error);
    const named = new grpc.Client(address, client('cli'), { 'grpc.ssl_target_name_override': 'referrals' });
    const readyNamed = await new Promise<Error | undefined>((resolve) =>
      named.waitForReady(Date.now() + 5_000, (error) => resolve(error)),
    );
    named.close();
    expect(readyNamed).toBeUndefined();
  });
});
