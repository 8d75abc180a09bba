import { PassageError } from '@passage/errors';

/**
 * Integration clients (ADR 45): an agency's own system on the HTTP API, with OAuth 2.0 client
 * credentials. Pure: who may manage a client, what a token request says, whether an assertion's
 * claims hold, what a registered public key may be. No I/O, no keys: signatures and hashes are
 * the application layer's.
 */

/** Every client id starts so; no person's user id may (as `scim-` for SCIM clients, ADR 30). */
export const clientIdPrefix = 'client-';

/** How long an access token works. */
export const accessTokenSeconds = 600;

/** The longest an assertion may still have to live when it arrives ("exp short", RFC 7523 §3). */
export const assertionLifetimeSeconds = 300;

/** How far the client's clock and ours may differ. */
export const clockSkewSeconds = 30;

/** The longest a rotated-out credential may keep working. */
export const maxPreviousValidSeconds = 86_400;

export const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export type AuthMethod = 'client_secret' | 'private_key_jwt';
export type KeyAlgorithm = 'ES256' | 'RS256';

/** Who manages clients: the signed-in person. */
export interface Manager {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
}

const isAdmin = (manager: Manager): boolean => manager.roles.includes('admin');

/**
 * The ministry's administrator manages every agency's clients; an agency's supervisor only its
 * own agency's (a client is a worker of the agency, which a supervisor may already make);
 * nobody else any. `agencyId`: the agency the client is, or would be, of.
 */
export function checkManagesClients(manager: Manager, agencyId: string, field = 'agency_id'): void {
  if (!isAdmin(manager) && !manager.roles.includes('supervisor'))
    throw new PassageError('permission_denied', 'integration clients are managed by an admin or a supervisor');
  if (isAdmin(manager) || agencyId === manager.agencyId) return;
  throw new PassageError('permission_denied', `a supervisor manages only their own agency's integration clients`, [
    { field, description: `not your agency: you manage the clients of ${manager.agencyId} only` },
  ]);
}

/** The agency whose clients the manager sees: every agency's (undefined), or their own. */
export function visibleClientAgency(manager: Manager): string | undefined {
  return isAdmin(manager) ? undefined : manager.agencyId;
}

/**
 * Whether a client is there for the manager at all: to a supervisor, another agency's client is
 * as absent as one that does not exist (one answer, NOT_FOUND: no client id is told to exist).
 */
export function checkVisible(manager: Manager, client: { readonly agencyId: string } | undefined, clientId: string) {
  checkManagesClients(manager, manager.agencyId);
  const agency = visibleClientAgency(manager);
  if (!client || (agency !== undefined && client.agencyId !== agency))
    throw new PassageError('not_found', `no integration client ${clientId}`, [
      { field: 'client_id', description: 'no such integration client' },
    ]);
}

/** The caller a client's token stands for: a worker of its agency, named by the client's id. */
export function clientCaller(client: { readonly clientId: string; readonly agencyId: string }) {
  return { userId: client.clientId, agencyId: client.agencyId, roles: ['system' as const] };
}

/** Until when a rotated-out credential keeps working: at once (0) up to a day. */
export function previousValidUntil(now: Date, seconds: number): Date {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > maxPreviousValidSeconds)
    throw PassageError.invalid([
      { field: 'previous_valid_seconds', description: `0 to ${maxPreviousValidSeconds} seconds` },
    ]);
  return new Date(now.getTime() + seconds * 1000);
}

/** RFC 6749 §5.2 error codes, and the status each answers with. */
export type OAuthErrorCode =
  'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope';

/** Why a known client was refused, as the audit log names it (audit.v1.client_token). */
export type RefusalReason = 'revoked' | 'invalid_credential' | 'invalid_assertion' | 'replayed_assertion';

/** A token request refused (RFC 6749 §5.2): 401 for invalid_client, 400 otherwise. */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: 400 | 401;
  /** Set when the client is known: the refusal is audited under its id. */
  readonly clientId: string | undefined;
  readonly reason: RefusalReason | undefined;

  constructor(error: OAuthErrorCode, description: string, known?: { clientId: string; reason: RefusalReason }) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    this.status = error === 'invalid_client' ? 401 : 400;
    this.clientId = known?.clientId;
    this.reason = known?.reason;
  }
}

/** How a client authenticated a token request (RFC 6749 §2.3.1, RFC 7523 §2.2). */
export type TokenRequest =
  | {
      readonly method: 'client_secret_basic' | 'client_secret_post';
      readonly clientId: string;
      readonly secret: string;
    }
  | { readonly method: 'private_key_jwt'; readonly clientId: string | undefined; readonly assertion: string };

/** A form's parameters, each with every value it was given. */
export type FormValues = ReadonlyMap<string, readonly string[]>;

/** "a=1&b=2" (application/x-www-form-urlencoded) as every value of each name. */
export function formValues(body: string): FormValues {
  const values = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body)) values.set(name, [...(values.get(name) ?? []), value]);
  return values;
}

/** Form-urlencoding undone, as RFC 6749 §2.3.1 asks of the Basic credentials ("+" is a space). */
function formDecoded(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw new OAuthError('invalid_client', 'the Authorization header is not valid Basic credentials');
  }
}

/**
 * A client-credentials token request (RFC 6749 §4.4.2) and how its client authenticated: one way
 * only — HTTP Basic, client_id and client_secret in the form, or a client assertion. A parameter
 * given twice, a missing grant_type or a second way of authenticating is `invalid_request`; a
 * grant other than client_credentials `unsupported_grant_type`; any scope `invalid_scope`
 * (Passage has none: a token is its agency's worker on the whole API); no authentication at all
 * `invalid_client`.
 */
export function parseTokenRequest(form: FormValues, authorization: string | undefined): TokenRequest {
  // Parameters sent without a value are treated as omitted (RFC 6749 §3.2).
  const one = (name: string): string | undefined => {
    const given = (form.get(name) ?? []).filter((value) => value !== '');
    if (given.length > 1) throw new OAuthError('invalid_request', `${name} is given more than once`);
    return given[0];
  };
  for (const name of form.keys()) one(name);
  const grant = one('grant_type');
  if (grant === undefined) throw new OAuthError('invalid_request', 'grant_type is missing: client_credentials');
  if (grant !== 'client_credentials')
    throw new OAuthError('unsupported_grant_type', `grant_type "${grant.slice(0, 60)}": only client_credentials`);
  if (one('scope') !== undefined)
    throw new OAuthError(
      'invalid_scope',
      'Passage has no scopes: leave scope out (a token acts as its agency’s worker)',
    );
  const basic = /^basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (authorization !== undefined && authorization !== '' && !basic)
    throw new OAuthError('invalid_client', 'the Authorization header must be Basic credentials, if any');
  const secret = one('client_secret');
  const assertion = one('client_assertion');
  const assertionType = one('client_assertion_type');
  const formClientId = one('client_id');
  const ways = [basic !== null, secret !== undefined, assertion !== undefined].filter(Boolean).length;
  if (ways > 1)
    throw new OAuthError(
      'invalid_request',
      'use one way of client authentication: Basic credentials, client_secret, or client_assertion',
    );
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new OAuthError('invalid_client', 'the Authorization header is not valid Basic credentials');
    const clientId = formDecoded(decoded.slice(0, colon));
    if (formClientId !== undefined && formClientId !== clientId)
      throw new OAuthError('invalid_request', 'client_id differs from the one in the Authorization header');
    return { method: 'client_secret_basic', clientId, secret: formDecoded(decoded.slice(colon + 1)) };
  }
  if (secret !== undefined) {
    if (formClientId === undefined) throw new OAuthError('invalid_request', 'client_id is missing');
    return { method: 'client_secret_post', clientId: formClientId, secret };
  }
  if (assertion !== undefined) {
    if (assertionType !== clientAssertionType)
      throw new OAuthError('invalid_request', `client_assertion_type must be ${clientAssertionType}`);
    return { method: 'private_key_jwt', clientId: formClientId, assertion };
  }
  throw new OAuthError(
    'invalid_client',
    'client authentication is needed: Basic credentials, client_secret, or a client_assertion',
  );
}

/** A compact JWS, read but not yet verified. */
export interface DecodedAssertion {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** What the signature is over: "<header>.<payload>". */
  readonly signingInput: string;
  readonly signature: Buffer;
}

const base64url = /^[A-Za-z0-9_-]*$/;

function jsonObject(part: string): Record<string, unknown> | undefined {
  if (!base64url.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The parts of a client assertion; `invalid_client` when it is no compact JWS with JSON in it. */
export function decodeAssertion(assertion: string): DecodedAssertion {
  const parts = assertion.length <= 16_384 ? assertion.split('.') : [];
  const header = parts.length === 3 ? jsonObject(parts[0]!) : undefined;
  const claims = parts.length === 3 ? jsonObject(parts[1]!) : undefined;
  if (!header || !claims || !base64url.test(parts[2]!))
    throw new OAuthError('invalid_client', 'client_assertion is not a signed JWT (compact JWS)');
  return {
    header,
    claims,
    signingInput: `${parts[0]!}.${parts[1]!}`,
    signature: Buffer.from(parts[2]!, 'base64url'),
  };
}

/** Whom an assertion says it is from (its sub, or its iss): the client whose key should verify it. */
export function assertedClientId(decoded: DecodedAssertion, formClientId: string | undefined): string {
  const sub = decoded.claims['sub'];
  const claimed = typeof sub === 'string' ? sub : decoded.claims['iss'];
  if (typeof claimed !== 'string' || claimed === '')
    throw new OAuthError('invalid_client', 'client_assertion names no client (sub)');
  if (formClientId !== undefined && formClientId !== claimed)
    throw new OAuthError('invalid_request', 'client_id differs from the client_assertion’s sub');
  return claimed;
}

/**
 * The claims of a verified assertion (RFC 7523 §3): iss and sub the client; aud the token
 * endpoint; exp in the future but no more than five minutes away; nbf and iat, when there, not
 * in the future; a jti to spend once. Answers the jti and until when it must be remembered.
 */
export function checkAssertionClaims(
  claims: Readonly<Record<string, unknown>>,
  expected: { readonly clientId: string; readonly audience: string; readonly nowSeconds: number },
): { readonly jti: string; readonly expiresAtSeconds: number } {
  const { clientId, audience, nowSeconds } = expected;
  const refuse = (why: string): never => {
    throw new OAuthError('invalid_client', `client_assertion refused: ${why}`, {
      clientId,
      reason: 'invalid_assertion',
    });
  };
  if (claims['iss'] !== clientId || claims['sub'] !== clientId) refuse('iss and sub must both be the client_id');
  const aud = claims['aud'];
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(audience)) refuse(`aud must be the token endpoint, ${audience}`);
  const exp = claims['exp'];
  if (typeof exp !== 'number' || !Number.isFinite(exp)) refuse('exp is missing');
  const expires = exp as number;
  if (expires + clockSkewSeconds <= nowSeconds) refuse('it has expired');
  if (expires > nowSeconds + assertionLifetimeSeconds + clockSkewSeconds)
    refuse(`exp is too far ahead: at most ${assertionLifetimeSeconds} seconds`);
  for (const name of ['nbf', 'iat']) {
    const value = claims[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) refuse(`${name} is not a time`);
    if ((value as number) > nowSeconds + clockSkewSeconds) refuse(`${name} is in the future`);
  }
  const jti = claims['jti'];
  if (typeof jti !== 'string' || jti === '' || jti.length > 200) refuse('jti is missing (1 to 200 characters)');
  return { jti: jti as string, expiresAtSeconds: Math.ceil(expires) + clockSkewSeconds };
}

/** A registered public key: its members as RFC 7638 orders them, and the algorithm it signs with. */
export interface PublicJwk {
  readonly members: Readonly<Record<string, string>>;
  readonly algorithm: KeyAlgorithm;
}

const jwkField = 'public_jwk';

/**
 * A public key as a client registers it: a JSON Web Key, EC P-256 (ES256) or RSA of 2048 to 8192
 * bits (RS256); never a private key (`d` and the other private members are refused). An `alg`,
 * when given, must agree; a `use`, when given, must be `sig`.
 */
export function checkPublicJwk(text: string): PublicJwk {
  const invalid = (description: string): never => {
    throw PassageError.invalid([{ field: jwkField, description }]);
  };
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    invalid('a JSON Web Key (JSON object)');
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return invalid('a JSON Web Key (JSON object)');
  const key = jwk as Record<string, unknown>;
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])
    if (key[secret] !== undefined) invalid('a private key: register the public key only, and keep the private one');
  if (key['use'] !== undefined && key['use'] !== 'sig') invalid('use must be sig');
  const text64 = (name: string): string => {
    const value = key[name];
    if (typeof value !== 'string' || value === '' || !base64url.test(value)) invalid(`${name}: base64url text`);
    return value as string;
  };
  let members: Record<string, string>;
  let algorithm: KeyAlgorithm;
  if (key['kty'] === 'EC') {
    if (key['crv'] !== 'P-256') invalid('an EC key must be on P-256 (ES256)');
    members = { crv: 'P-256', kty: 'EC', x: text64('x'), y: text64('y') };
    if (members['x']!.length !== 43 || members['y']!.length !== 43) invalid('x and y: 32 bytes each');
    algorithm = 'ES256';
  } else if (key['kty'] === 'RSA') {
    members = { e: text64('e'), kty: 'RSA', n: text64('n') };
    const bits = Math.floor((members['n']!.length * 6) / 8) * 8;
    if (bits < 2048 || bits > 8192) invalid('an RSA key of 2048 to 8192 bits');
    algorithm = 'RS256';
  } else return invalid('kty: EC (P-256, ES256) or RSA (RS256)');
  if (key['alg'] !== undefined && key['alg'] !== algorithm) invalid(`alg: ${algorithm} for this key`);
  return { members, algorithm };
}

/** The JSON a JWK thumbprint is the SHA-256 of (RFC 7638: required members, in order, no spaces). */
export function thumbprintInput(jwk: PublicJwk): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.keys(jwk.members)
        .sort()
        .map((name) => [name, jwk.members[name]]),
    ),
  );
}
