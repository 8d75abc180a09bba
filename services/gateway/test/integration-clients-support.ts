import { randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Http, Session } from './support.ts';

/**
 * Integration clients (ADR 45) for tests, as an agency's system would use them: issued by an
 * administrator over the HTTP API, then a token from POST /oauth/token with the secret or a
 * signed assertion. `integrationClientToken` does all of it in one call.
 */

export interface IssuedClient {
  readonly clientId: string;
  readonly agencyId: string;
  /** Empty for a private_key_jwt client. */
  readonly clientSecret: string;
  /** The token endpoint as the gateway names it: the audience of the client's assertions. */
  readonly tokenEndpoint: string;
}

/** Issues a client as `manager` (an admin, or the agency's supervisor): a secret unless a public JWK is given. */
export async function issueClient(
  http: Http,
  manager: Session,
  agencyId: string,
  options: { readonly name?: string; readonly publicJwk?: JsonWebKey } = {},
): Promise<IssuedClient> {
  const made = await http.json<{
    client: { clientId: string; agencyId: string };
    clientSecret: string;
    tokenEndpoint: string;
  }>('POST', '/api/integration-clients', {
    session: manager,
    body: {
      agencyId,
      name: options.name ?? `Synthetic case management (${agencyId})`,
      ...(options.publicJwk
        ? { authMethod: 'CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT', publicJwk: JSON.stringify(options.publicJwk) }
        : {}),
    },
  });
  if (made.status !== 201)
    throw new Error(`integration client not issued: ${made.status} ${JSON.stringify(made.body)}`);
  return {
    clientId: made.body.client.clientId,
    agencyId: made.body.client.agencyId,
    clientSecret: made.body.clientSecret,
    tokenEndpoint: made.body.tokenEndpoint,
  };
}

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/** POST /oauth/token with these form parameters (and headers), as a client would send them. */
export async function requestToken(
  base: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<TokenAnswer> {
  const response = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    headers: response.headers,
  };
}

/** HTTP Basic client credentials (RFC 6749 §2.3.1: each part form-encoded first). */
export const basicCredentials = (clientId: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** An access token for a secret client (client_secret_basic); throws unless one is issued. */
export async function secretToken(base: string, clientId: string, secret: string): Promise<string> {
  const answer = await requestToken(
    base,
    { grant_type: 'client_credentials' },
    { authorization: basicCredentials(clientId, secret) },
  );
  if (answer.status !== 200) throw new Error(`no token: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body['access_token'] as string;
}

/**
 * A client assertion (RFC 7523) signed with the client's private key: ES256 for an EC key,
 * RS256 for RSA. Claims default to what the gateway accepts; a test overrides one to break it.
 */
export function clientAssertion(
  privateKey: KeyObject,
  claims: { readonly clientId: string; readonly audience: string } & Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const { clientId, audience, ...overrides } = claims;
  const alg = privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg, typ: 'JWT', ...header })}.${encode({
    iss: clientId,
    sub: clientId,
    aud: audience,
    jti: randomUUID(),
    iat: now,
    exp: now + 120,
    ...overrides,
  })}`;
  const signature = sign(
    'sha256',
    Buffer.from(input),
    alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey,
  );
  return `${input}.${signature.toString('base64url')}`;
}

/** The form of a private_key_jwt token request carrying that assertion. */
export const assertionForm = (assertion: string): Record<string, string> => ({
  grant_type: 'client_credentials',
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: assertion,
});

/**
 * In one call: the administrator (signed in with the demo password) issues `agencyId` a secret
 * client, and the client gets an access token. Send it as `Authorization: Bearer <token>` to the
 * routes whose roles name system; the client is a worker of its agency there.
 */
export async function integrationClientToken(
  http: Http,
  agencyId = 'london-coalition',
): Promise<IssuedClient & { readonly accessToken: string }> {
  const admin = await http.signIn('admin');
  const client = await issueClient(http, admin, agencyId);
  return { ...client, accessToken: await secretToken(http.base, client.clientId, client.clientSecret) };
}
