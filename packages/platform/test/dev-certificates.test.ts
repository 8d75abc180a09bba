import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDevCertificates } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'passage-certs-'));
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One mutual-TLS handshake: resolves with whether the server saw an authorised client. */
function handshake(files: {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  servername: string;
}) {
  return new Promise<{ clientAuthorized: boolean; error?: string }>((resolve) => {
    const server = createServer(
      {
        ca: readFileSync(files.ca),
        cert: readFileSync(files.serverCert),
        key: readFileSync(files.serverKey),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => {
        resolve({ clientAuthorized: socket.authorized });
        socket.end();
      },
    );
    servers.push(server);
    server.on('tlsClientError', (error) => resolve({ clientAuthorized: false, error: error.message }));
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      const socket = connect({
        host: '127.0.0.1',
        port,
        servername: files.servername,
        ca: readFileSync(files.ca),
        cert: readFileSync(files.clientCert),
        key: readFileSync(files.clientKey),
      });
      socket.on('error', (error) => resolve({ clientAuthorized: false, error: error.message }));
    });
  });
}

describe('development certificates', () => {
  it('make a CA and leaf certificates that pass a mutual TLS handshake by name and by address', async () => {
    const files = writeDevCertificates({ dir, names: ['referrals', 'gateway'], hosts: ['referrals.passage.svc'] });
    expect(statSync(files.key('referrals')).mode & 0o077).toBe(0);
    const common = {
      ca: files.ca,
      serverCert: files.cert('referrals'),
      serverKey: files.key('referrals'),
      clientCert: files.cert('gateway'),
      clientKey: files.key('gateway'),
    };
    expect(await handshake({ ...common, servername: 'referrals' })).toEqual({ clientAuthorized: true });
    expect(await handshake({ ...common, servername: 'referrals.passage.svc' })).toEqual({ clientAuthorized: true });
    const verify = spawnSync('openssl', ['verify', '-CAfile', files.ca, files.cert('gateway')], { encoding: 'utf8' });
    expect(verify.stdout).toContain('OK');
  });

  it('refuse a name the certificate does not carry, and a certificate from another CA', async () => {
    const files = writeDevCertificates({ dir, names: ['consent'] });
    const other = writeDevCertificates({ dir: join(dir, 'other'), names: ['intruder'] });
    const wrongName = await handshake({
      ca: files.ca,
      serverCert: files.cert('consent'),
      serverKey: files.key('consent'),
      clientCert: files.cert('consent'),
      clientKey: files.key('consent'),
      servername: 'audit',
    });
    expect(wrongName.error).toMatch(/altnames|Hostname/i);
    const otherCa = await handshake({
      ca: files.ca,
      serverCert: files.cert('consent'),
      serverKey: files.key('consent'),
      clientCert: other.cert('intruder'),
      clientKey: other.key('intruder'),
      servername: 'consent',
    });
    expect(otherCa.clientAuthorized).toBe(false);
    expect(otherCa.error).toBeTruthy();
  });
});
