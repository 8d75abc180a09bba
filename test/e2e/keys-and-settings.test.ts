import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkpointSigner, NoteVerifier } from '@passage/audit-log';
import { issuerFromEnv, verifierFromEnv } from '@passage/auth';
import { auditConfigSchema, auditSettingChecks } from '@passage/audit/config';
import { consentConfigSchema, consentSettingChecks } from '@passage/consent/config';
import {
  keyRingFromEnv,
  open,
  publicKeyFromRaw,
  rawPublicKey,
  seal,
  privateKeyFromSeed,
  signJws,
  verifyJws,
} from '@passage/crypto';
import { directoryConfigSchema, directorySettingChecks } from '@passage/directory/config';
import { escalationConfigSchema, escalationSettingChecks } from '@passage/escalation/config';
import { gatewayConfigSchema, gatewaySettingChecks } from '@passage/gateway/config';
import { referralsConfigSchema, referralsSettingChecks } from '@passage/referrals/config';
import { configExitCode, loadConfig, type ConfigError, type SettingsCheck } from '@passage/platform';
import { testTls } from '@passage/platform/testing';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'packages/cli/src/main.ts');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service's own schema and checks
const services: Record<string, { schema: any; checks: readonly SettingsCheck<any>[] }> = {
  directory: { schema: directoryConfigSchema, checks: directorySettingChecks },
  consent: { schema: consentConfigSchema, checks: consentSettingChecks },
  referrals: { schema: referralsConfigSchema, checks: referralsSettingChecks },
  audit: { schema: auditConfigSchema, checks: auditSettingChecks },
  escalation: { schema: escalationConfigSchema, checks: escalationSettingChecks },
  gateway: { schema: gatewayConfigSchema, checks: gatewaySettingChecks },
};

function keysNew(...args: string[]): { dir: string; stdout: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'passage-keys-')), 'keys');
  const result = spawnSync(process.execPath, [cli, 'keys', 'new', ...args, dir], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return { dir, stdout: result.stdout };
}

/** Everything but the keys a production service needs, valid: TLS files, NATS user, database over TLS. */
function productionBase(service: string): Record<string, string> {
  const tls = testTls(service).env;
  return {
    PASSAGE_ENV: 'production',
    ...tls,
    NATS_TLS_CA_FILE: tls.GRPC_TLS_CA_FILE,
    NATS_USER: service,
    NATS_PASSWORD: 'synthetic-password',
    DATABASE_URL: `postgres://passage_${service}@db:5432/passage?sslmode=verify-full&sslrootcert=${tls.GRPC_TLS_CA_FILE}`,
    KEYSTORE_DATABASE_URL: `postgres://passage_${service}_keys@db:5432/passage?sslmode=verify-full&sslrootcert=${tls.GRPC_TLS_CA_FILE}`,
  };
}

describe('pnpm passage keys new', () => {
  it('writes an env file per process that every service accepts in production, and the keys sign and verify', () => {
    const { dir, stdout } = keysNew('--env');
    const env = (name: string) => parseEnv(readFileSync(join(dir, `${name}.env`), 'utf8')) as Record<string, string>;
    // Never a private key on stdout: only the public verifier key is printed.
    for (const name of ['consent', 'referrals', 'audit', 'escalation', 'gateway']) {
      for (const [setting, value] of Object.entries(env(name))) {
        if (setting !== 'AUTH_PUBLIC_KEYS') expect(stdout).not.toContain(value);
      }
    }
    expect(stdout).toContain(env('cli')['AUDIT_VERIFIER_KEY']);
    expect((statSync(join(dir, 'consent.env')).mode & 0o777).toString(8)).toBe('600');

    for (const [name, { schema, checks }] of Object.entries(services)) {
      expect(() => {
        loadConfig(schema, { ...productionBase(name), ...env(name) }, checks);
      }, name).not.toThrow();
    }

    // Caller tokens: the gateway's and the escalation service's keys, verified with AUTH_PUBLIC_KEYS.
    const verifier = verifierFromEnv({ ...env('directory'), PASSAGE_ENV: 'production' });
    for (const issuerOf of ['gateway', 'escalation']) {
      const issuer = issuerFromEnv({ ...env(issuerOf), PASSAGE_ENV: 'production' });
      const caller = { userId: 'user-synthetic', agencyId: 'agency-synthetic', roles: ['admin' as const] };
      expect(verifier.verify(issuer.issue(caller)).userId).toBe('user-synthetic');
    }
    // Receipts: RECEIPT_SIGNING_KEY (which consent's checks above parsed) signs a JWS its public key verifies.
    const [kid, seed] = env('consent')['RECEIPT_SIGNING_KEY']!.split(':');
    const receiptKey = privateKeyFromSeed(Buffer.from(seed!, 'base64'));
    const publicKey = publicKeyFromRaw(rawPublicKey(receiptKey));
    const receipt = signJws({ consent: 'synthetic' }, receiptKey, kid!, 'consent-receipt+jws');
    expect(verifyJws(receipt, (id) => (id === kid ? publicKey : undefined))).toEqual({ consent: 'synthetic' });
    // Checkpoints: signed with AUDIT_SIGNING_KEY, opened with the printed AUDIT_VERIFIER_KEY.
    const signer = checkpointSigner({
      ...env('audit'),
      AUDIT_ORIGIN: 'passage.ontario/audit',
      PASSAGE_ENV: 'production',
    });
    const checkpoint = { origin: 'passage.ontario/audit', treeSize: 3, rootHash: Buffer.alloc(32, 7) };
    expect(new NoteVerifier(env('cli')['AUDIT_VERIFIER_KEY']!).open(signer.sign(checkpoint)).treeSize).toBe(3);
    // KEKs: one per key store, each sealing and opening.
    const consentRing = keyRingFromEnv({ ...env('consent'), PASSAGE_ENV: 'production' });
    const referralsRing = keyRingFromEnv({ ...env('referrals'), PASSAGE_ENV: 'production' });
    expect(consentRing.current.key.equals(referralsRing.current.key)).toBe(false);
    const sealed = seal(consentRing.current.key, Buffer.from('synthetic'), 'ad');
    expect(open(consentRing.get(consentRing.current.id).key, sealed, 'ad').toString()).toBe('synthetic');
  });

  it('writes a file per setting, read through <NAME>_FILE, and never overwrites', () => {
    const { dir } = keysNew('--files');
    for (const [name, { schema, checks }] of Object.entries(services)) {
      const files = readdirSync(join(dir, name));
      expect(files.length).toBeGreaterThan(0);
      const fileSettings = Object.fromEntries(files.map((setting) => [`${setting}_FILE`, join(dir, name, setting)]));
      const config = loadConfig(schema, { ...productionBase(name), ...fileSettings }, checks) as Record<string, string>;
      for (const setting of files) expect(config[setting]).toBe(readFileSync(join(dir, name, setting), 'utf8'));
    }
    const again = spawnSync(process.execPath, [cli, 'keys', 'new', '--files', dir], { encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/never overwritten/);
  });
});

describe('a service started with bad settings', () => {
  it('says every problem on stderr, one line each, without a stack trace, and exits 78', () => {
    const result = spawnSync(process.execPath, ['src/main.ts'], {
      cwd: join(root, 'services/consent'),
      env: { PATH: process.env['PATH'] ?? '', GRPC_PORT: 'eighty', AUTH_PUBLIC_KEYS: 'not-a-key' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status).toBe(configExitCode);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toMatch(/^consent: cannot start/);
    for (const setting of [
      'GRPC_PORT',
      'GRPC_TLS_CA',
      'DATABASE_URL',
      'KEYSTORE_DATABASE_URL',
      'NATS_TLS_CA',
      'NATS_USER',
      'PASSAGE_KEK',
      'AUTH_PUBLIC_KEYS',
      'RECEIPT_SIGNING_KEY',
    ]) {
      expect(
        lines.filter((line) => line.trimStart().startsWith(setting)),
        setting,
      ).toHaveLength(1);
    }
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses the published development receipt key outside development', () => {
    const dev = `dev-receipts:${Buffer.alloc(32, 0x33).toString('base64')}`;
    const issues = (() => {
      try {
        loadConfig(consentConfigSchema, { RECEIPT_SIGNING_KEY: dev }, consentSettingChecks);
        return [];
      } catch (error) {
        return (error as ConfigError).issues;
      }
    })();
    expect(issues).toContain('RECEIPT_SIGNING_KEY is the published development key: outside development use your own');
    expect(() => {
      loadConfig(consentConfigSchema, { RECEIPT_SIGNING_KEY: dev, PASSAGE_ENV: 'development' }, consentSettingChecks);
    }).not.toThrow();
  });

  it('says a setting found wrong later in the start (a health port already taken) the same way', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const result = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['src/main.ts'], {
          cwd: join(root, 'services/directory'),
          env: {
            PATH: process.env['PATH'] ?? '',
            PASSAGE_ENV: 'development',
            GRPC_PORT: '0',
            HEALTH_PORT: String(port),
            LOG_LEVEL: 'silent',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('exit', (status) => resolve({ status, stderr }));
      });
      expect(result.status).toBe(configExitCode);
      expect(result.stderr).toMatch(
        /^directory: cannot start: 1 problem in its settings\n {2}HEALTH_PORT: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/,
      );
      expect(result.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
