import { resolve } from 'node:path';
import { writeDevCertificates } from '@passage/platform';
import { UsageError } from '../connection.ts';

/** Every party that speaks TLS in a Passage network: the services, the command line, NATS and Postgres. */
export const certificateNames = [
  'directory',
  'consent',
  'referrals',
  'audit',
  'escalation',
  'gateway',
  'cli',
  'nats',
  'postgres',
] as const;

/**
 * `passage certs dev --out DIR [--hosts a,b]`: a development CA and a certificate for every
 * party, for mutual TLS on a laptop or a test cluster, never for a deployment (ADR 26). A CA
 * already in DIR is kept and the certificates are issued again by it.
 */
export function certsDev(
  flags: { readonly out?: string | undefined; readonly hosts?: string | undefined },
  print: (line: string) => void,
): number {
  if (!flags.out) throw new UsageError('certs dev: give the folder to write to: --out DIR');
  const hosts = (flags.hosts ?? '')
    .split(',')
    .map((host) => host.trim())
    .filter(Boolean);
  const dir = resolve(flags.out);
  let files;
  try {
    files = writeDevCertificates({ dir, names: certificateNames, hosts });
  } catch (error) {
    throw new UsageError(`certs dev: ${(error as Error).message}`);
  }
  print(`development CA: ${files.ca} (its key ca.key stays with you; never for real data)`);
  for (const name of certificateNames) print(`${name}: ${files.cert(name)}, ${files.key(name)}`);
  print(
    [
      'for a service, e.g. referrals:',
      `  GRPC_TLS_CA_FILE=${files.ca} GRPC_TLS_CERT_FILE=${files.cert('referrals')} GRPC_TLS_KEY_FILE=${files.key('referrals')}`,
      'for this command line:',
      `  GRPC_TLS_CA_FILE=${files.ca} GRPC_TLS_CERT_FILE=${files.cert('cli')} GRPC_TLS_KEY_FILE=${files.key('cli')}`,
    ].join('\n'),
  );
  return 0;
}
