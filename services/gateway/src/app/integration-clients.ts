import {
  createHash,
  createPublicKey,
  randomBytes,
  randomUUID,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { TokenIssuer } from '@passage/auth';
import { PassageError } from '@passage/errors';
import {
  OAuthError,
  accessTokenSeconds,
  assertedClientId,
  checkAssertionClaims,
  checkManagesClients,
  checkPublicJwk,
  checkVisible,
  clientCaller,
  clientIdPrefix,
  decodeAssertion,
  previousValidUntil,
  thumbprintInput,
  visibleClientAgency,
  type AuthMethod,
  type DecodedAssertion,
  type KeyAlgorithm,
  type Manager,
  type PublicJwk,
  type RefusalReason,
  type TokenRequest,
} from '../domain/integration-clients.ts';
import type { AdminAudit } from './people.ts';

/** An integration client as its managers see it (never a secret: only hashes are kept). */
export interface ClientRecord {
  readonly clientId: string;
  readonly agencyId: string;
  readonly name: string;
  readonly authMethod: AuthMethod;
  /** private_key_jwt: the current key's RFC 7638 thumbprint and algorithm; empty otherwise. */
  readonly keyThumbprint: string;
  readonly keyAlgorithm: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly rotatedAt: Date | undefined;
  /** Until when a rotated-out credential still works (only while it does). */
  readonly previousValidUntil: Date | undefined;
  readonly revokedAt: Date | undefined;
  readonly revokedBy: string;
}

/** A credential that works now: a secret's hash, or a registered public key. */
export interface UsableCredential {
  readonly credentialId: string;
  readonly secretHash: Buffer | undefined;
  readonly publicJwk: Readonly<Record<string, string>> | undefined;
  readonly keyAlgorithm: KeyAlgorithm | undefined;
}

export interface NewCredential {
  readonly credentialId: string;
  readonly secretHash?: Buffer;
  readonly publicJwk?: PublicJwk;
  readonly keyThumbprint?: string;
}

/** audit.v1.client_token: a known client asked for a token. */
export interface TokenAudit {
  readonly clientId: string;
  readonly agencyId: string;
  readonly outcome: 'issued' | 'refused';
  readonly authMethod: TokenRequest['method'];
  readonly reason: RefusalReason | '';
  readonly expiresAt: Date | undefined;
  readonly at: Date;
}

/** audit.v1.client_call: a client called the HTTP API. */
export interface CallAudit {
  readonly clientId: string;
  readonly agencyId: string;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly outcome: string;
  readonly referralId: string;
  readonly at: Date;
}

/** What an access token stands for, whatever its state. */
export interface TokenHolder {
  readonly clientId: string;
  readonly agencyId: string;
  /** Unexpired, of a client not revoked, got with a credential that still works. */
  readonly live: boolean;
}

export interface ClientTransaction {
  /** The client, locked for this transaction. */
  lock(clientId: string, now: Date): Promise<ClientRecord | undefined>;
  insert(
    client: Pick<ClientRecord, 'clientId' | 'agencyId' | 'name' | 'authMethod' | 'createdBy'>,
    credential: NewCredential,
    now: Date,
  ): Promise<void>;
  /** The new credential is current; every earlier one works until `previousUntil` at the latest. */
  rotate(clientId: string, credential: NewCredential, previousUntil: Date, now: Date): Promise<void>;
  /** Revokes the client; answers how many unexpired tokens it had. */
  revoke(clientId: string, by: string, now: Date): Promise<number>;
  /** False when the client has used this jti before (remembered until `until`). */
  spendJti(clientId: string, jti: string, until: Date, now: Date): Promise<boolean>;
  insertToken(tokenHash: Buffer, clientId: string, credentialId: string, expiresAt: Date, now: Date): Promise<void>;
  record(audit: AdminAudit): Promise<void>;
  recordToken(audit: TokenAudit): Promise<void>;
}

export interface ClientStore {
  client(clientId: string, now: Date): Promise<ClientRecord | undefined>;
  /** One agency's clients or every agency's, by client id. */
  list(agencyId: string | undefined, includeRevoked: boolean, now: Date): Promise<ClientRecord[]>;
  /** The client's credentials that work at `now`. */
  usableCredentials(clientId: string, now: Date): Promise<UsableCredential[]>;
  token(tokenHash: Buffer, now: Date): Promise<TokenHolder | undefined>;
  transaction<T>(work: (tx: ClientTransaction) => Promise<T>): Promise<T>;
  /** In a transaction of its own: the event goes out through the outbox. */
  recordCall(audit: CallAudit): Promise<void>;
}

/** An access token as the client received it. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresIn: number;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const accessTokenPattern = /^[A-Za-z0-9_-]{43}$/;

/** One answer for every failed authentication of a known client: the audit log holds the reason. */
const authenticationFailed = (clientId: string, reason: RefusalReason) =>
  new OAuthError('invalid_client', 'client authentication failed', { clientId, reason });

/** Whether a JWS signature over `input` verifies with the key (ES256: r‖s; RS256: PKCS#1 v1.5). */
function signatureVerifies(decoded: DecodedAssertion, key: KeyObject, algorithm: KeyAlgorithm): boolean {
  try {
    return algorithm === 'ES256'
      ? verify('sha256', Buffer.from(decoded.signingInput), { key, dsaEncoding: 'ieee-p1363' }, decoded.signature)
      : verify('sha256', Buffer.from(decoded.signingInput), key, decoded.signature);
  } catch {
    return false;
  }
}

function keyObject(members: Readonly<Record<string, string>>): KeyObject {
  return createPublicKey({ key: { ...members }, format: 'jwk' });
}

/**
 * Integration clients (ADR 45): their administration (each change an audit.v1.admin_action in
 * the same transaction), the token endpoint's client authentication, and the access tokens the
 * HTTP API takes from them. The gateway still decides nothing about referrals or consent: a
 * client is a worker of its agency (role system), and the services decide as for any worker.
 */
export class IntegrationClients {
  readonly #store: ClientStore;
  readonly #issuer: TokenIssuer;
  readonly #tokenEndpoint: string;
  readonly #now: () => Date;
  readonly #callerTokens = new Map<string, { token: string; until: number }>();

  /** `tokenEndpoint`: the token endpoint's URL as clients reach it, the audience of their assertions. */
  constructor(store: ClientStore, issuer: TokenIssuer, tokenEndpoint: string, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#issuer = issuer;
    this.#tokenEndpoint = tokenEndpoint;
    this.#now = now;
  }

  get tokenEndpoint(): string {
    return this.#tokenEndpoint;
  }

  async create(
    manager: Manager,
    request: { agencyId: string; name: string; authMethod: AuthMethod; publicJwk: string },
  ): Promise<{ client: ClientRecord; clientSecret: string }> {
    checkManagesClients(manager, request.agencyId);
    const clientId = `${clientIdPrefix}${randomBytes(6).toString('hex')}`;
    const { credential, clientSecret } = this.#credential(request.authMethod, request.publicJwk);
    const now = this.#now();
    await this.#store.transaction(async (tx) => {
      await tx.insert(
        {
          clientId,
          agencyId: request.agencyId,
          name: request.name,
          authMethod: request.authMethod,
          createdBy: manager.userId,
        },
        credential,
        now,
      );
      await tx.record(
        this.#audit('integration_client_created', manager, clientId, request.agencyId, request.authMethod, now),
      );
    });
    return { client: await this.#found(clientId), clientSecret };
  }

  async list(manager: Manager, agencyId: string, includeRevoked: boolean): Promise<ClientRecord[]> {
    checkManagesClients(manager, agencyId || manager.agencyId);
    return this.#store.list(visibleClientAgency(manager) ?? (agencyId || undefined), includeRevoked, this.#now());
  }

  async rotate(
    manager: Manager,
    clientId: string,
    request: { publicJwk: string; previousValidSeconds: number },
  ): Promise<{ client: ClientRecord; clientSecret: string }> {
    const now = this.#now();
    const until = previousValidUntil(now, request.previousValidSeconds);
    let secret = '';
    await this.#store.transaction(async (tx) => {
      const client = await tx.lock(clientId, now);
      checkVisible(manager, client, clientId);
      if (client!.revokedAt)
        throw new PassageError('failed_precondition', `integration client ${clientId} is revoked: issue a new one`, [
          { field: 'client_id', description: 'revoked' },
        ]);
      const { credential, clientSecret } = this.#credential(client!.authMethod, request.publicJwk);
      secret = clientSecret;
      await tx.rotate(clientId, credential, until, now);
      await tx.record(
        this.#audit('integration_client_rotated', manager, clientId, client!.agencyId, client!.authMethod, now),
      );
    });
    return { client: await this.#found(clientId), clientSecret: secret };
  }

  async revoke(manager: Manager, clientId: string): Promise<{ client: ClientRecord; tokensEnded: number }> {
    const now = this.#now();
    const tokensEnded = await this.#store.transaction(async (tx) => {
      const client = await tx.lock(clientId, now);
      checkVisible(manager, client, clientId);
      if (client!.revokedAt) return 0; // revoked already: nothing more to end, nothing to audit
      const ended = await tx.revoke(clientId, manager.userId, now);
      await tx.record(
        this.#audit('integration_client_revoked', manager, clientId, client!.agencyId, client!.authMethod, now),
      );
      return ended;
    });
    for (const key of this.#callerTokens.keys()) if (key.startsWith(`${clientId}|`)) this.#callerTokens.delete(key);
    return { client: await this.#found(clientId), tokensEnded };
  }

  /**
   * POST /oauth/token, once the request is read: authenticates the client and issues an access
   * token. Every answer to a known client id — issued or refused, and why — is audited under it.
   */
  async issueToken(request: TokenRequest): Promise<IssuedToken> {
    const now = this.#now();
    try {
      return await this.#issue(request, now);
    } catch (error) {
      if (error instanceof OAuthError && error.clientId !== undefined) {
        const client = await this.#store.client(error.clientId, now);
        await this.#store.transaction((tx) =>
          tx.recordToken({
            clientId: error.clientId!,
            agencyId: client?.agencyId ?? '',
            outcome: 'refused',
            authMethod: request.method,
            reason: error.reason ?? 'invalid_credential',
            expiresAt: undefined,
            at: now,
          }),
        );
      }
      throw error;
    }
  }

  async #issue(request: TokenRequest, now: Date): Promise<IssuedToken> {
    const decoded = request.method === 'private_key_jwt' ? decodeAssertion(request.assertion) : undefined;
    const clientId = decoded ? assertedClientId(decoded, request.clientId) : (request.clientId ?? '');
    const client =
      clientId.startsWith(clientIdPrefix) && clientId.length <= 100
        ? await this.#store.client(clientId, now)
        : undefined;
    if (!client) throw new OAuthError('invalid_client', 'client authentication failed');
    if (client.revokedAt) throw authenticationFailed(clientId, 'revoked');
    if ((client.authMethod === 'private_key_jwt') !== (decoded !== undefined))
      throw authenticationFailed(clientId, 'invalid_credential');
    const credentials = await this.#store.usableCredentials(clientId, now);
    let used: UsableCredential | undefined;
    let jti: { jti: string; expiresAtSeconds: number } | undefined;
    if (decoded) {
      used = credentials.find(
        (c) =>
          c.publicJwk !== undefined &&
          c.keyAlgorithm !== undefined &&
          c.keyAlgorithm === decoded.header['alg'] &&
          signatureVerifies(decoded, keyObject(c.publicJwk), c.keyAlgorithm),
      );
      if (!used) throw authenticationFailed(clientId, 'invalid_credential');
      jti = checkAssertionClaims(decoded.claims, {
        clientId,
        audience: this.#tokenEndpoint,
        nowSeconds: Math.floor(now.getTime() / 1000),
      });
    } else {
      const hash = sha256(request.method === 'private_key_jwt' ? '' : request.secret);
      used = credentials.find((c) => c.secretHash !== undefined && timingSafeEqual(c.secretHash, hash));
      if (!used) throw authenticationFailed(clientId, 'invalid_credential');
    }
    const credentialId = used.credentialId;
    const accessToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + accessTokenSeconds * 1000);
    await this.#store.transaction(async (tx) => {
      if (jti && !(await tx.spendJti(clientId, jti.jti, new Date(jti.expiresAtSeconds * 1000), now)))
        throw new OAuthError('invalid_client', 'client_assertion refused: its jti was used before (single use)', {
          clientId,
          reason: 'replayed_assertion',
        });
      await tx.insertToken(sha256(accessToken), clientId, credentialId, expiresAt, now);
      await tx.recordToken({
        clientId,
        agencyId: client.agencyId,
        outcome: 'issued',
        authMethod: request.method,
        reason: '',
        expiresAt,
        at: now,
      });
    });
    return { accessToken, expiresIn: accessTokenSeconds };
  }

  /** The client an access token stands for while it works; `refused` names a known token's client otherwise. */
  async authenticate(
    accessToken: string,
  ): Promise<
    | { readonly client: { readonly clientId: string; readonly agencyId: string } }
    | { readonly refused: { readonly clientId: string; readonly agencyId: string } | undefined }
  > {
    if (!accessTokenPattern.test(accessToken)) return { refused: undefined };
    const holder = await this.#store.token(sha256(accessToken), this.#now());
    if (!holder) return { refused: undefined };
    const client = { clientId: holder.clientId, agencyId: holder.agencyId };
    return holder.live ? { client } : { refused: client };
  }

  /** A short-lived caller token for the services (ADR 11): the client as a worker of its agency. */
  callerToken(client: { readonly clientId: string; readonly agencyId: string }): string {
    const key = `${client.clientId}|${client.agencyId}`;
    const held = this.#callerTokens.get(key);
    if (held && held.until > Date.now()) return held.token;
    if (this.#callerTokens.size > 10_000) {
      for (const [k, v] of this.#callerTokens) if (v.until <= Date.now()) this.#callerTokens.delete(k);
    }
    const token = this.#issuer.issue(clientCaller(client), 300);
    this.#callerTokens.set(key, { token, until: Date.now() + 240_000 });
    return token;
  }

  /** audit.v1.client_call for one call of the HTTP API. */
  recordCall(call: Omit<CallAudit, 'at'>): Promise<void> {
    return this.#store.recordCall({ ...call, at: this.#now() });
  }

  #credential(method: AuthMethod, publicJwk: string): { credential: NewCredential; clientSecret: string } {
    const credentialId = randomUUID();
    if (method === 'client_secret') {
      if (publicJwk !== '')
        throw PassageError.invalid([{ field: 'public_jwk', description: 'only for a private_key_jwt client' }]);
      const clientSecret = randomBytes(32).toString('base64url');
      return { credential: { credentialId, secretHash: sha256(clientSecret) }, clientSecret };
    }
    if (publicJwk === '')
      throw PassageError.invalid([{ field: 'public_jwk', description: 'required: the public key, as a JWK' }]);
    const jwk = checkPublicJwk(publicJwk);
    try {
      keyObject(jwk.members);
    } catch {
      throw PassageError.invalid([{ field: 'public_jwk', description: 'not a usable public key' }]);
    }
    const keyThumbprint = createHash('sha256').update(thumbprintInput(jwk)).digest('base64url');
    return { credential: { credentialId, publicJwk: jwk, keyThumbprint }, clientSecret: '' };
  }

  #audit(
    action: 'integration_client_created' | 'integration_client_rotated' | 'integration_client_revoked',
    manager: Manager,
    clientId: string,
    agencyId: string,
    authMethod: AuthMethod,
    at: Date,
  ): AdminAudit {
    return {
      action,
      actor: {
        userId: manager.userId,
        agencyId: manager.agencyId,
        role: manager.roles.includes('admin') ? 'admin' : 'supervisor',
      },
      targetUserId: clientId,
      targetAgency: agencyId,
      roles: ['system'],
      credential: authMethod,
      at,
    };
  }

  async #found(clientId: string): Promise<ClientRecord> {
    const client = await this.#store.client(clientId, this.#now());
    if (!client) throw new PassageError('not_found', `no integration client ${clientId}`);
    return client;
  }
}
