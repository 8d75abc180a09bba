import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ConfigError, type BaseConfig } from './config.ts';

/** The settings that decide how gRPC is carried: mutual TLS, or plaintext in development only. */
export type GrpcTlsSettings = Pick<BaseConfig, 'PASSAGE_ENV' | 'GRPC_TLS_CA' | 'GRPC_TLS_CERT' | 'GRPC_TLS_KEY'>;

/** How this process's gRPC server listens and its clients connect (ADR 26). */
export interface GrpcTransport {
  readonly security: 'mutual-tls' | 'plaintext';
  /** For the server: with mutual TLS it requires a client certificate issued by the CA. */
  readonly serverCredentials: grpc.ServerCredentials;
  /** For every client: with mutual TLS it checks the server's certificate and name and presents its own. */
  readonly clientCredentials: grpc.ChannelCredentials;
}

/** What a gRPC client connects with: a GrpcTransport's clientCredentials. */
export type ClientCredentials = grpc.ChannelCredentials;

/** Where the one warning of plaintext goes: a service's logger, or the command line's stderr. */
export interface TransportLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

const makeThem = 'make development ones with `pnpm passage certs dev --out DIR`';
const settingNames = ['GRPC_TLS_CA', 'GRPC_TLS_CERT', 'GRPC_TLS_KEY'] as const;
const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';

/**
 * The one place that decides gRPC transport security. All three of GRPC_TLS_CA, GRPC_TLS_CERT
 * and GRPC_TLS_KEY: mutual TLS, the certificates checked first (each parses, the key is the
 * certificate's, the CA issued it, none expired), so a bad one stops the process at start with
 * one line naming the setting instead of failing every call later. None of them with
 * PASSAGE_ENV=development: plaintext, said once in the log. Anything else: a ConfigError.
 *
 * `role`: a service both serves and calls, so its certificate must allow server and client
 * authentication; the command line (`client`) only calls.
 */
export function grpcTransport(
  settings: GrpcTlsSettings,
  log: TransportLog,
  role: 'service' | 'client' = 'service',
): GrpcTransport {
  const given = settingNames.filter((name) => Boolean(settings[name]));
  if (given.length === 0) {
    if (settings.PASSAGE_ENV !== 'development') {
      throw new ConfigError([
        `${settingNames.join(', ')}: not set — outside PASSAGE_ENV=development gRPC runs only over mutual TLS: ` +
          `give the CA, this party's certificate and its key (PEM, or a path in <NAME>_FILE); ${makeThem}`,
      ]);
    }
    log.warn(
      { security: 'plaintext' },
      'gRPC without TLS: PASSAGE_ENV=development and no GRPC_TLS_* settings; never for real data',
    );
    return {
      security: 'plaintext',
      serverCredentials: grpc.ServerCredentials.createInsecure(),
      clientCredentials: grpc.credentials.createInsecure(),
    };
  }
  if (given.length < settingNames.length) {
    const missing = settingNames.filter((name) => !given.includes(name));
    throw new ConfigError([
      `${missing.join(', ')}: not set, while ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} — ` +
        `mutual TLS needs all three of ${settingNames.join(', ')} (PEM, or a path in <NAME>_FILE); ${makeThem}`,
    ]);
  }
  const ca = settings.GRPC_TLS_CA!;
  const cert = settings.GRPC_TLS_CERT!;
  const key = settings.GRPC_TLS_KEY!;
  const leaf = checkCertificates(ca, cert, key, role);
  log.info(
    { security: 'mutual-tls', certificate: leaf.subject.replace(/\n/g, ', '), expires: leaf.validToDate.toISOString() },
    'gRPC over mutual TLS',
  );
  return {
    security: 'mutual-tls',
    serverCredentials: grpc.ServerCredentials.createSsl(
      Buffer.from(ca),
      [{ cert_chain: Buffer.from(cert), private_key: Buffer.from(key) }],
      true,
    ),
    clientCredentials: grpc.credentials.createSsl(Buffer.from(ca), Buffer.from(key), Buffer.from(cert)),
  };
}

function refuse(setting: string, problem: string): never {
  throw new ConfigError([`${setting}: ${problem}`]);
}

/** The certificates of a PEM text, in order; a ConfigError naming the setting when there are none or one does not parse. */
function certificates(setting: string, pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) {
    refuse(setting, `no PEM certificate (-----BEGIN CERTIFICATE-----) in it — a path goes in ${setting}_FILE`);
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      return refuse(setting, `a certificate in it does not parse (${(error as Error).message})`);
    }
  });
}

function checkValidity(setting: string, certificate: X509Certificate, now: Date): void {
  if (certificate.validToDate < now) {
    refuse(
      setting,
      `the certificate ${certificate.subject.replace(/\n/g, ', ')} expired on ${certificate.validToDate.toISOString()} — ` +
        `issue a new one (${makeThem})`,
    );
  }
  if (certificate.validFromDate > now) {
    refuse(
      setting,
      `the certificate ${certificate.subject.replace(/\n/g, ', ')} is valid only from ` +
        `${certificate.validFromDate.toISOString()} — check this machine's clock`,
    );
  }
}

function issuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
}

/** Checks what a TLS handshake would only find out later; returns this party's certificate. */
function checkCertificates(ca: string, cert: string, key: string, role: 'service' | 'client'): X509Certificate {
  const now = new Date();
  const authorities = certificates('GRPC_TLS_CA', ca);
  if (!authorities.some((authority) => authority.ca)) {
    refuse(
      'GRPC_TLS_CA',
      "not a CA certificate (no basicConstraints CA:TRUE) — give the issuer's certificate (ca.crt)",
    );
  }
  const chain = certificates('GRPC_TLS_CERT', cert);
  for (const certificate of chain) checkValidity('GRPC_TLS_CERT', certificate, now);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    refuse('GRPC_TLS_KEY', 'not a PEM private key (unencrypted) — a path goes in GRPC_TLS_KEY_FILE');
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(privateKey)) {
    refuse(
      'GRPC_TLS_KEY',
      'the key does not belong to the certificate in GRPC_TLS_CERT — give the key that was made with it',
    );
  }
  // Leaf first, then any intermediates; the last must be issued by (or be) one of the CAs.
  const chained = chain.every((certificate, i) => i === chain.length - 1 || issuedBy(certificate, chain[i + 1]!));
  const top = chain.at(-1)!;
  const anchor = authorities.find(
    (authority) => authority.fingerprint256 === top.fingerprint256 || issuedBy(top, authority),
  );
  if (!chained || !anchor) {
    refuse(
      'GRPC_TLS_CERT',
      'the certificate was not issued by GRPC_TLS_CA — make both with `pnpm passage certs dev --out DIR` ' +
        'or take them from the same issuer',
    );
  }
  // The CA that issued it must be valid too (a bundle may hold others, for a rotation).
  checkValidity('GRPC_TLS_CA', anchor, now);
  const usages = leaf.keyUsage;
  const needed = role === 'service' ? [serverAuth, clientAuth] : [clientAuth];
  if (usages && !needed.every((usage) => usages.includes(usage))) {
    refuse(
      'GRPC_TLS_CERT',
      role === 'service'
        ? 'the certificate is not for both TLS server and client authentication (extendedKeyUsage serverAuth, ' +
            'clientAuth) — a service serves and calls: issue it with both usages'
        : 'the certificate is not for TLS client authentication (extendedKeyUsage clientAuth) — issue it with that usage',
    );
  }
  return leaf;
}
