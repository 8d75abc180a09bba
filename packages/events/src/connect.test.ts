import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, writeDevCertificates } from '@passage/platform';
import { natsConnectionOptions } from './connect.ts';

let dir: string;
let pem: { ca: string; cert: string; key: string };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'passage-nats-options-'));
  const files = writeDevCertificates({ dir, names: ['referrals'] });
  pem = {
    ca: readFileSync(files.ca, 'utf8'),
    cert: readFileSync(files.cert('referrals'), 'utf8'),
    key: readFileSync(files.key('referrals'), 'utf8'),
  };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(settings: Parameters<typeof natsConnectionOptions>[0]): string {
  try {
    natsConnectionOptions(settings, 'referrals');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('NATS connection settings', () => {
  const url = 'nats://nats-0:4222, nats://nats-1:4222';

  it('outside development, asks for the CA, the user and the password, naming each', () => {
    expect(refusal({ NATS_URL: url })).toMatch(/NATS_TLS_CA is required outside development/);
    expect(refusal({ NATS_URL: url })).toMatch(/NATS_USER and NATS_PASSWORD are required outside development/);
    expect(refusal({ NATS_URL: url, NATS_TLS_CA: pem.ca, NATS_USER: 'referrals' })).toMatch(
      /NATS_USER and NATS_PASSWORD are required/,
    );
  });

  it('refuses half a client certificate and text that is not PEM', () => {
    const base = { NATS_URL: url, NATS_TLS_CA: pem.ca, NATS_USER: 'referrals', NATS_PASSWORD: 'p' };
    expect(refusal({ ...base, NATS_TLS_CERT: pem.cert })).toMatch(/NATS_TLS_CERT and NATS_TLS_KEY go together/);
    expect(refusal({ ...base, NATS_TLS_CA: '/etc/nats/tls/ca.crt' })).toMatch(
      /NATS_TLS_CA: not a PEM certificate; give the PEM text, or NATS_TLS_CA_FILE=/,
    );
    expect(refusal({ ...base, NATS_TLS_CERT: pem.cert, NATS_TLS_KEY: 'nope' })).toMatch(
      /NATS_TLS_KEY: not a PEM private key/,
    );
  });

  it('connects over TLS as the user, with every server, and replies under the service inbox', () => {
    const options = natsConnectionOptions(
      {
        NATS_URL: url,
        NATS_TLS_CA: pem.ca,
        NATS_TLS_CERT: pem.cert,
        NATS_TLS_KEY: pem.key,
        NATS_USER: 'referrals',
        NATS_PASSWORD: 'p',
      },
      'referrals',
    );
    expect(options).toMatchObject({
      servers: ['nats://nats-0:4222', 'nats://nats-1:4222'],
      user: 'referrals',
      pass: 'p',
      inboxPrefix: '_INBOX.referrals',
      tls: { ca: pem.ca, cert: pem.cert, key: pem.key },
      maxReconnectAttempts: -1,
    });
  });

  it('in development, allows plaintext without a user', () => {
    const options = natsConnectionOptions(
      { NATS_URL: 'nats://localhost:4222', PASSAGE_ENV: 'development' },
      'referrals',
    );
    expect(options.tls).toBeUndefined();
    expect(options.user).toBeUndefined();
  });
});
