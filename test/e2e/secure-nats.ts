import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Topology,
  natsPasswordVariable,
  newNatsPassword,
  renderNatsAuthorization,
  serviceNames,
} from '@passage/events';
import { writeDevCertificates, type DevCertificateFiles } from '@passage/platform';
import { startSecureNats, type SecureNats } from '@passage/testing';

export const natsUsers = [...serviceNames, 'admin'] as const;
export type NatsUser = (typeof natsUsers)[number];

/** A private nats-server as a deployment runs it: TLS, and the generated users with passwords of the test's own. */
export interface ServicesNats {
  readonly server: SecureNats;
  /** The development CA, the server's certificate (`nats`) and the one the services present (`services`). */
  readonly certs: DevCertificateFiles;
  readonly passwords: Readonly<Record<NatsUser, string>>;
  /** The server's environment: every user's password (`<USER>_NATS_PASSWORD`). */
  readonly serverEnv: Readonly<Record<string, string>>;
  /** A service's NATS settings as it reads them from its environment: files, its user, its password. */
  env(user: NatsUser, password?: string): Record<string, string>;
  dispose(): Promise<void>;
}

export async function startServicesNats(namespace = ''): Promise<ServicesNats> {
  const dir = mkdtempSync(join(tmpdir(), 'passage-services-nats-'));
  const certs = writeDevCertificates({ dir, names: ['nats', 'services'] });
  const passwords = Object.fromEntries(natsUsers.map((user) => [user, newNatsPassword()])) as Record<NatsUser, string>;
  const serverEnv = Object.fromEntries(natsUsers.map((user) => [natsPasswordVariable(user), passwords[user]]));
  const server = await startSecureNats({
    tls: { ca: certs.ca, cert: certs.cert('nats'), key: certs.key('nats') },
    authorization: renderNatsAuthorization(new Topology(namespace)),
    env: serverEnv,
  }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    server,
    certs,
    passwords,
    serverEnv,
    env: (user, password = passwords[user]) => ({
      NATS_URL: server.url,
      NATS_NAMESPACE: namespace,
      // As a deployment mounts them: files, read through <NAME>_FILE.
      NATS_TLS_CA_FILE: certs.ca,
      NATS_TLS_CERT_FILE: certs.cert('services'),
      NATS_TLS_KEY_FILE: certs.key('services'),
      NATS_USER: user,
      NATS_PASSWORD: password,
    }),
    async dispose() {
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
