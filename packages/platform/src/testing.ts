import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
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
