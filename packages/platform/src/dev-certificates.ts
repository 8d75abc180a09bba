import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A development certificate authority and one certificate per party (each service, the CLI,
 * the NATS and Postgres servers), for mutual TLS on a laptop, in tests and on the loopback
 * cluster. Never for a deployment: there, certificates come from the cluster's issuer
 * (docs/operations.md).
 *
 * Every certificate is valid for server and client authentication, for its own name, the
 * names given in `hosts`, `localhost` and 127.0.0.1, and is signed by the CA in the same folder.
 * Made with the `openssl` command (ECDSA P-256 keys), which a developer machine has.
 */
export interface DevCertificateOptions {
  /** Written to: `ca.crt`, `ca.key`, and `<name>.crt` / `<name>.key` for each name. */
  readonly dir: string;
  readonly names: readonly string[];
  /** Extra DNS names on every certificate (a Kubernetes namespace's service names, say). */
  readonly hosts?: readonly string[];
  /** Days the certificates are valid; 825 by default. */
  readonly days?: number;
}

export interface DevCertificateFiles {
  readonly ca: string;
  readonly cert: (name: string) => string;
  readonly key: (name: string) => string;
}

function openssl(args: readonly string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error)
    throw new Error(`cannot run openssl (${result.error.message}): install it to make development certificates`);
  if (result.status !== 0) throw new Error(`openssl ${args[0] ?? ''} failed: ${result.stderr.trim()}`);
}

const validName = /^[a-z0-9][a-z0-9-]*$/;
const validHost = /^[a-z0-9*][a-z0-9.-]*$/;

/**
 * Makes the CA (unless `ca.crt` and `ca.key` are already in the folder: new certificates then
 * join the existing CA) and a certificate for every name. Returns the files' paths.
 */
export function writeDevCertificates(options: DevCertificateOptions): DevCertificateFiles {
  const { dir } = options;
  const days = String(options.days ?? 825);
  mkdirSync(dir, { recursive: true });
  for (const host of options.hosts ?? []) {
    if (!validHost.test(host)) throw new Error(`"${host}" is not a host name`);
  }
  if (!existsSync(join(dir, 'ca.crt')) || !existsSync(join(dir, 'ca.key'))) {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key'], dir);
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        'ca.key',
        '-sha256',
        '-days',
        days,
        '-subj',
        '/CN=Passage development CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
        '-out',
        'ca.crt',
      ],
      dir,
    );
  }
  chmodSync(join(dir, 'ca.key'), 0o600);
  for (const name of options.names) {
    if (!validName.test(name)) throw new Error(`"${name}" is not a certificate name (a-z, 0-9, -)`);
    const dnsNames = [...new Set([name, ...(options.hosts ?? []), 'localhost'])];
    const extensions = `${name}.ext`;
    writeFileSync(
      join(dir, extensions),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyAgreement',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=${[...dnsNames.map((host) => `DNS:${host}`), 'IP:127.0.0.1'].join(',')}`,
        'authorityKeyIdentifier=keyid',
        '',
      ].join('\n'),
    );
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
    // Postgres and others refuse a private key that others can read.
    chmodSync(join(dir, `${name}.key`), 0o600);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        days,
        '-sha256',
        '-extfile',
        extensions,
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
    rmSync(join(dir, `${name}.csr`));
    rmSync(join(dir, extensions));
  }
  return {
    ca: join(dir, 'ca.crt'),
    cert: (name) => join(dir, `${name}.crt`),
    key: (name) => join(dir, `${name}.key`),
  };
}
