import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import { authenticate, verifierFromEnv } from './authenticate.ts';
import { TokenIssuer, TokenVerifier, developmentIssuer } from './tokens.ts';

const issuer = new TokenIssuer('k1', randomBytes(32));
const verifier = TokenVerifier.fromSetting(issuer.publicKeySetting);
const caller = { userId: 'london-intake', agencyId: 'london-coalition', roles: ['intake_worker' as const] };

function withToken(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

describe('caller tokens', () => {
  it('round-trips a caller', () => {
    expect(verifier.verify(issuer.issue(caller))).toEqual(caller);
  });

  it('answers UNAUTHENTICATED for a missing, expired, forged or tampered token', () => {
    const codeOf = (metadata: Metadata) => {
      try {
        authenticate(metadata, verifier);
        return 'ok';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    expect(codeOf(new Metadata())).toBe('unauthenticated');
    expect(codeOf(withToken(issuer.issue(caller, 60, Date.now() - 3_600_000)))).toBe('unauthenticated');
    const forger = new TokenIssuer('k1', randomBytes(32));
    expect(codeOf(withToken(forger.issue(caller)))).toBe('unauthenticated');
    const [header, , signature] = issuer.issue(caller).split('.');
    const admin = Buffer.from(JSON.stringify({ ...caller, roles: ['admin'] })).toString('base64url');
    expect(codeOf(withToken(`${header}.${admin}.${signature}`))).toBe('unauthenticated');
    expect(codeOf(withToken(issuer.issue(caller)))).toBe('ok');
  });

  it('accepts the development key only in development', () => {
    expect(() => verifierFromEnv({})).toThrow(/AUTH_PUBLIC_KEYS is required/);
    const dev = verifierFromEnv({ PASSAGE_ENV: 'development' });
    expect(dev.verify(developmentIssuer().issue(caller)).userId).toBe('london-intake');
  });
});

describe('verified-token cache', () => {
  it('remembers a verified token, and still refuses it once it has expired', () => {
    const now = Date.now();
    const token = issuer.issue(caller, 60, now);
    const fresh = TokenVerifier.fromSetting(issuer.publicKeySetting);
    expect(fresh.verify(token, now).userId).toBe('london-intake');
    expect(fresh.cachedTokens).toBe(1);
    expect(fresh.verify(token, now).userId).toBe('london-intake');
    expect(fresh.cachedTokens).toBe(1);
    const [header, body, signature] = token.split('.') as [string, string, string];
    const altered = `${header}.${body.startsWith('e') ? 'f' : 'e'}${body.slice(1)}.${signature}`;
    expect(() => fresh.verify(altered, now)).toThrow();
    expect(fresh.cachedTokens).toBe(1);
    expect(verifier.verify(token, now).userId).toBe('london-intake');
    expect(verifier.verify(token, now + 30_000).userId).toBe('london-intake');
    expect(() => verifier.verify(token, now + 61_000)).toThrow(/expired/);
  });
});
