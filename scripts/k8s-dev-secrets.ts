// `node scripts/k8s-dev-secrets.ts [folder]`: the Secrets of the Kubernetes dev overlay
// (deploy/k8s/overlays/dev/secrets/ unless a folder is given), as env files its
// secretGenerator reads: fresh random passwords, KEKs and Ed25519 keys, for a development
// cluster only. Files that exist are kept, so the keys survive a second run; --force makes new ones.
// Production creates the same Secrets out of band (docs/operations.md, "Secrets").
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newDeploymentKeys, newNatsPassword } from '@passage/cli/keys';

const services = ['directory', 'consent', 'referrals', 'audit', 'escalation', 'gateway'] as const;

const password = (): string => randomBytes(24).toString('hex');

function dbLogin(role: string): Record<string, string> {
  const secret = password();
  return {
    username: role,
    password: secret,
    url: `postgres://${role}:${secret}@passage-db-rw:5432/passage?sslmode=verify-full&sslrootcert=/run/passage/db-ca/ca.crt`,
  };
}

/** Every file the dev overlay's secretGenerator lists, by name. */
export function devSecretFiles(): Record<string, Record<string, string>> {
  // The keys as `pnpm passage keys new` makes them (packages/cli/src/keys.ts), grouped as the overlay's Secrets.
  const keys = newDeploymentKeys({ label: 'dev-cluster' });
  const files: Record<string, Record<string, string>> = {
    'db-admin.env': dbLogin('passage_admin'),
    // The operators' NATS user (deploy/nats/authorization.conf): JetStream's API, no events.
    'nats-admin.env': { password: newNatsPassword() },
    'auth-public-keys.env': { AUTH_PUBLIC_KEYS: keys.directory.AUTH_PUBLIC_KEYS },
    'consent-keys.env': {
      PASSAGE_KEK: keys.consent.PASSAGE_KEK,
      RECEIPT_SIGNING_KEY: keys.consent.RECEIPT_SIGNING_KEY,
    },
    'referrals-keys.env': { PASSAGE_KEK: keys.referrals.PASSAGE_KEK },
    'audit-keys.env': { AUDIT_SIGNING_KEY: keys.audit.AUDIT_SIGNING_KEY },
    'escalation-keys.env': { SERVICE_TOKEN_KEY: keys.escalation.SERVICE_TOKEN_KEY },
    'gateway-keys.env': { SERVICE_TOKEN_KEY: keys.gateway.SERVICE_TOKEN_KEY },
  };
  for (const service of services) {
    files[`${service}-db.env`] = dbLogin(`passage_${service}`);
    files[`${service}-nats.env`] = { password: newNatsPassword() };
  }
  return files;
}

export function writeDevSecrets(folder: string, { force = false } = {}): string[] {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const files = devSecretFiles();
  // The token keys and AUTH_PUBLIC_KEYS belong together: all are written anew or none.
  const anyMissing = Object.keys(files).some((name) => !existsSync(join(folder, name)));
  if (!force && !anyMissing) return [];
  const written: string[] = [];
  for (const [name, values] of Object.entries(files)) {
    const body = Object.entries(values)
      .map(([key, value]) => `${key}=${value}\n`)
      .join('');
    writeFileSync(join(folder, name), body, { mode: 0o600 });
    written.push(name);
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const folder =
    args.find((arg) => !arg.startsWith('--')) ??
    fileURLToPath(new URL('../deploy/k8s/overlays/dev/secrets/', import.meta.url));
  const written = writeDevSecrets(folder, { force });
  console.log(
    written.length > 0
      ? `wrote ${written.length} files of development Secrets to ${folder}`
      : `${folder} is complete; --force makes new keys`,
  );
}
