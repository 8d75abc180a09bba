import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PassageError } from '@passage/errors';
import {
  OAuthError,
  assertedClientId,
  checkAssertionClaims,
  checkManagesClients,
  checkPublicJwk,
  checkVisible,
  clientAssertionType,
  clientCaller,
  decodeAssertion,
  formValues,
  parseTokenRequest,
  previousValidUntil,
  thumbprintInput,
  visibleClientAgency,
  type Manager,
} from './integration-clients.ts';

const admin: Manager = { userId: 'admin', agencyId: 'passage-oversight', roles: ['admin'] };
const londonSupervisor: Manager = {
  userId: 'london-supervisor',
  agencyId: 'london-coalition',
  roles: ['supervisor', 'intake_worker'],
};
const londonIntake: Manager = { userId: 'london-intake', agencyId: 'london-coalition', roles: ['intake_worker'] };

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('not refused');
}

const oauth = (run: () => unknown): { error: string; status: number; reason?: string } => {
  const error = thrown(run);
  if (!(error instanceof OAuthError)) throw error;
  return { error: error.error, status: error.status, ...(error.reason ? { reason: error.reason } : {}) };
};

const form = (body: string) => formValues(body);
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('who manages integration clients', () => {
  it("lets the administrator manage any agency's, a supervisor only its own, and nobody else any", () => {
    expect(() => checkManagesClients(admin, 'windsor-essex-ahtag')).not.toThrow();
    expect(() => checkManagesClients(londonSupervisor, 'london-coalition')).not.toThrow();
    const elsewhere = thrown(() => checkManagesClients(londonSupervisor, 'windsor-essex-ahtag')) as PassageError;
    expect(elsewhere).toMatchObject({ code: 'permission_denied', violations: [{ field: 'agency_id' }] });
    expect(thrown(() => checkManagesClients(londonIntake, 'london-coalition'))).toMatchObject({
      code: 'permission_denied',
    });
    expect(visibleClientAgency(admin)).toBeUndefined();
    expect(visibleClientAgency(londonSupervisor)).toBe('london-coalition');
  });

  it("hides another agency's client from a supervisor exactly as a client nobody has", () => {
    const windsors = { agencyId: 'windsor-essex-ahtag' };
    const hidden = thrown(() => checkVisible(londonSupervisor, windsors, 'client-aaaaaaaaaaaa')) as PassageError;
    const none = thrown(() => checkVisible(londonSupervisor, undefined, 'client-aaaaaaaaaaaa')) as PassageError;
    expect(hidden).toMatchObject({ code: 'not_found' });
    expect(hidden.message).toBe(none.message);
    expect(() => checkVisible(admin, windsors, 'client-aaaaaaaaaaaa')).not.toThrow();
  });

  it("makes a client's token a worker of its agency: role system, named by the client's id", () => {
    expect(clientCaller({ clientId: 'client-0123456789ab', agencyId: 'london-coalition' })).toEqual({
      userId: 'client-0123456789ab',
      agencyId: 'london-coalition',
      roles: ['system'],
    });
  });

  it('keeps a rotated-out credential from at once to a day, nothing longer', () => {
    const now = new Date('2026-12-03T10:00:00Z');
    expect(previousValidUntil(now, 0)).toEqual(now);
    expect(previousValidUntil(now, 86_400).toISOString()).toBe('2026-12-04T10:00:00.000Z');
    for (const seconds of [-1, 86_401, 1.5])
      expect(thrown(() => previousValidUntil(now, seconds))).toMatchObject({
        code: 'invalid_argument',
        violations: [{ field: 'previous_valid_seconds' }],
      });
  });
});

describe('a token request (RFC 6749 §4.4.2, §2.3.1)', () => {
  it('reads the three ways a client authenticates', () => {
    expect(parseTokenRequest(form('grant_type=client_credentials'), basic('client-1', 's3cret'))).toEqual({
      method: 'client_secret_basic',
      clientId: 'client-1',
      secret: 's3cret',
    });
    // Basic credentials are form-encoded before base64: a colon in a secret arrives as %3A.
    expect(parseTokenRequest(form('grant_type=client_credentials'), basic('client-1', 'a%3Ab+c'))).toMatchObject({
      secret: 'a:b c',
    });
    expect(
      parseTokenRequest(form('grant_type=client_credentials&client_id=client-1&client_secret=s3cret'), undefined),
    ).toEqual({ method: 'client_secret_post', clientId: 'client-1', secret: 's3cret' });
    expect(
      parseTokenRequest(
        form(
          `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(clientAssertionType)}&client_assertion=a.b.c`,
        ),
        undefined,
      ),
    ).toEqual({ method: 'private_key_jwt', clientId: undefined, assertion: 'a.b.c' });
  });

  it('refuses what RFC 6749 §5.2 names, each with its code and status', () => {
    const ok = basic('client-1', 's3cret');
    expect(oauth(() => parseTokenRequest(form(''), ok))).toEqual({ error: 'invalid_request', status: 400 });
    expect(oauth(() => parseTokenRequest(form('grant_type=password'), ok))).toEqual({
      error: 'unsupported_grant_type',
      status: 400,
    });
    expect(oauth(() => parseTokenRequest(form('grant_type=client_credentials&scope=x'), ok))).toEqual({
      error: 'invalid_scope',
      status: 400,
    });
    expect(
      oauth(() => parseTokenRequest(form('grant_type=client_credentials&grant_type=client_credentials'), ok)),
    ).toEqual({ error: 'invalid_request', status: 400 });
    expect(oauth(() => parseTokenRequest(form('grant_type=client_credentials&client_secret=s'), ok))).toEqual({
      error: 'invalid_request',
      status: 400,
    });
    expect(oauth(() => parseTokenRequest(form('grant_type=client_credentials&client_id=client-2'), ok))).toEqual({
      error: 'invalid_request',
      status: 400,
    });
    expect(oauth(() => parseTokenRequest(form('grant_type=client_credentials&client_secret=s'), undefined))).toEqual({
      error: 'invalid_request',
      status: 400,
    });
    expect(
      oauth(() =>
        parseTokenRequest(
          form('grant_type=client_credentials&client_assertion=a.b.c&client_assertion_type=x'),
          undefined,
        ),
      ),
    ).toEqual({ error: 'invalid_request', status: 400 });
    expect(oauth(() => parseTokenRequest(form('grant_type=client_credentials'), undefined))).toEqual({
      error: 'invalid_client',
      status: 401,
    });
    expect(oauth(() => parseTokenRequest(form('grant_type=client_credentials'), 'Bearer abc'))).toEqual({
      error: 'invalid_client',
      status: 401,
    });
    expect(oauth(() => parseTokenRequest(form('grant_type=client_credentials'), 'Basic bm9jb2xvbg=='))).toEqual({
      error: 'invalid_client',
      status: 401,
    });
  });

  it('treats a parameter with no value as left out (RFC 6749 §3.2)', () => {
    expect(
      parseTokenRequest(form('grant_type=client_credentials&scope=&client_id=&client_secret='), basic('client-1', 's')),
    ).toMatchObject({ method: 'client_secret_basic' });
  });

  it('never throws anything but a refusal, whatever the form and header', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.option(fc.string({ maxLength: 80 })), (body, header) => {
        try {
          parseTokenRequest(form(body), header ?? undefined);
        } catch (error) {
          expect(error).toBeInstanceOf(OAuthError);
        }
      }),
    );
  });
});

describe('a client assertion (RFC 7523 §3)', () => {
  const now = 1_800_000_000;
  const audience = 'https://passage.example/oauth/token';
  const clientId = 'client-0123456789ab';
  const good = { iss: clientId, sub: clientId, aud: audience, exp: now + 120, iat: now, jti: 'j-1' };
  const check = (claims: Record<string, unknown>) =>
    checkAssertionClaims(claims, { clientId, audience, nowSeconds: now });

  it('takes iss and sub the client, aud the token endpoint (alone or in a list), a short exp and a jti', () => {
    expect(check(good)).toEqual({ jti: 'j-1', expiresAtSeconds: now + 150 });
    expect(check({ ...good, aud: ['https://elsewhere.example', audience] }).jti).toBe('j-1');
    // Within the clock skew either way.
    expect(check({ ...good, exp: now - 10, iat: now + 20, nbf: now + 20 }).jti).toBe('j-1');
  });

  it('refuses a wrong issuer or subject, audience, an expired, far-off or undated one, a future iat or nbf, no jti', () => {
    for (const [what, claims] of [
      ['iss', { ...good, iss: 'client-other' }],
      ['sub', { ...good, sub: 'client-other' }],
      ['aud', { ...good, aud: 'https://passage.example/api' }],
      ['aud list', { ...good, aud: ['https://passage.example/api'] }],
      ['expired', { ...good, exp: now - 31 }],
      ['far off', { ...good, exp: now + 331 }],
      ['no exp', { ...good, exp: undefined }],
      ['exp text', { ...good, exp: String(now + 60) }],
      ['iat ahead', { ...good, iat: now + 31 }],
      ['nbf ahead', { ...good, nbf: now + 31 }],
      ['no jti', { ...good, jti: undefined }],
      ['empty jti', { ...good, jti: '' }],
      ['long jti', { ...good, jti: 'x'.repeat(201) }],
    ] as const)
      expect(
        oauth(() => check(claims)),
        what,
      ).toEqual({ error: 'invalid_client', status: 401, reason: 'invalid_assertion' });
  });

  it('reads who an assertion is from before any key is looked up, and refuses what is no JWS', () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const decoded = decodeAssertion(`${part({ alg: 'ES256' })}.${part(good)}.c2ln`);
    expect(decoded.signature.toString()).toBe('sig');
    expect(assertedClientId(decoded, undefined)).toBe(clientId);
    expect(assertedClientId(decoded, clientId)).toBe(clientId);
    expect(oauth(() => assertedClientId(decoded, 'client-other'))).toMatchObject({ error: 'invalid_request' });
    for (const bad of ['', 'a.b', 'a.b.c.d', `${part([1])}.${part(good)}.c2ln`, `${part({})}.not json.c2ln`])
      expect(
        oauth(() => decodeAssertion(bad)),
        bad,
      ).toMatchObject({ error: 'invalid_client' });
    const anonymous = decodeAssertion(`${part({ alg: 'ES256' })}.${part({ aud: audience })}.c2ln`);
    expect(oauth(() => assertedClientId(anonymous, undefined))).toMatchObject({ error: 'invalid_client' });
  });
});

describe('a registered public key', () => {
  const x = 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU';
  const y = 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0';
  const n = 'A'.repeat(342); // 2048 bits

  it('is an EC P-256 key (ES256) or an RSA key of 2048 bits or more (RS256), its thumbprint input in RFC 7638 order', () => {
    const ec = checkPublicJwk(JSON.stringify({ kty: 'EC', crv: 'P-256', x, y, kid: 'k1', use: 'sig', alg: 'ES256' }));
    expect(ec.algorithm).toBe('ES256');
    expect(thumbprintInput(ec)).toBe(`{"crv":"P-256","kty":"EC","x":"${x}","y":"${y}"}`);
    const rsa = checkPublicJwk(JSON.stringify({ kty: 'RSA', n, e: 'AQAB' }));
    expect(rsa.algorithm).toBe('RS256');
    expect(thumbprintInput(rsa)).toBe(`{"e":"AQAB","kty":"RSA","n":"${n}"}`);
  });

  it('is never a private key, another curve or kind, a small RSA key or a mismatched alg; each refusal names public_jwk', () => {
    for (const [what, text] of [
      ['not JSON', '{'],
      ['a list', '[]'],
      ['private EC', JSON.stringify({ kty: 'EC', crv: 'P-256', x, y, d: x })],
      ['private RSA', JSON.stringify({ kty: 'RSA', n, e: 'AQAB', p: 'AQAB' })],
      ['symmetric', JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' })],
      ['P-384', JSON.stringify({ kty: 'EC', crv: 'P-384', x, y })],
      ['short x', JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'AAAA', y })],
      ['RSA 1024', JSON.stringify({ kty: 'RSA', n: 'A'.repeat(171), e: 'AQAB' })],
      ['alg', JSON.stringify({ kty: 'EC', crv: 'P-256', x, y, alg: 'RS256' })],
      ['use', JSON.stringify({ kty: 'EC', crv: 'P-256', x, y, use: 'enc' })],
      ['not base64url', JSON.stringify({ kty: 'EC', crv: 'P-256', x: `${x.slice(1)}=`, y })],
    ] as const)
      expect(
        thrown(() => checkPublicJwk(text)),
        what,
      ).toMatchObject({
        code: 'invalid_argument',
        violations: [{ field: 'public_jwk' }],
      });
  });
});
