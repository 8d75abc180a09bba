import { describe, expect, it } from 'vitest';
import { issuerFromEnv, verifierFromEnv } from './authenticate.ts';
import { developmentIssuer } from './tokens.ts';

// The development keys are published in this repository: outside development each one is refused.
describe('the development gate', () => {
  const developmentPublic = developmentIssuer().publicKeySetting;
  const developmentSeed = `dev-insecure:${Buffer.alloc(32, 0x42).toString('base64')}`;

  it('refuses the development keys outside development, set by hand or not set at all', () => {
    expect(() => verifierFromEnv({ AUTH_PUBLIC_KEYS: developmentPublic })).toThrow(/published development key/);
    expect(() => issuerFromEnv({ SERVICE_TOKEN_KEY: developmentSeed })).toThrow(/published development key/);
    expect(() => verifierFromEnv({})).toThrow(/AUTH_PUBLIC_KEYS is required/);
    expect(() => issuerFromEnv({})).toThrow(/SERVICE_TOKEN_KEY is required/);
  });

  it('takes them in development, and keys of your own anywhere', () => {
    const env = { PASSAGE_ENV: 'development' };
    const token = issuerFromEnv({ ...env, SERVICE_TOKEN_KEY: developmentSeed }).issue({
      userId: 'admin',
      agencyId: 'ministry',
      roles: ['admin'],
    });
    expect(verifierFromEnv({ ...env, AUTH_PUBLIC_KEYS: developmentPublic }).verify(token).userId).toBe('admin');
    const own = issuerFromEnv({ SERVICE_TOKEN_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}` });
    expect(
      verifierFromEnv({ AUTH_PUBLIC_KEYS: own.publicKeySetting }).verify(
        own.issue({
          userId: 'admin',
          agencyId: 'ministry',
          roles: ['admin'],
        }),
      ).roles,
    ).toEqual(['admin']);
  });
});
