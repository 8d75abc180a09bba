import type { Metadata } from '@grpc/grpc-js';
import { ConfigError, PassageError, bearerToken } from '@passage/platform';
import type { Caller, Role } from './roles.ts';
import { TokenError, TokenIssuer, TokenVerifier, developmentIssuer } from './tokens.ts';

/** The caller of a gRPC call, from its `authorization: Bearer` token; UNAUTHENTICATED otherwise. */
export function authenticate(metadata: Metadata, verifier: TokenVerifier): Caller {
  const token = bearerToken(metadata);
  if (!token) throw new PassageError('unauthenticated', 'no caller token: send "authorization: Bearer <token>"');
  try {
    return verifier.verify(token);
  } catch (error) {
    throw new PassageError('unauthenticated', error instanceof TokenError ? error.message : 'token rejected');
  }
}

export function requireRole(caller: Caller, allowed: readonly Role[], action: string): void {
  if (!caller.roles.some((role) => allowed.includes(role))) {
    throw new PassageError('permission_denied', `${action} needs one of the roles ${allowed.join(', ')}`);
  }
}

/**
 * The verifier a service uses: AUTH_PUBLIC_KEYS when set; the development key only with
 * PASSAGE_ENV=development; otherwise the service refuses to start.
 */
export function verifierFromEnv(env: {
  AUTH_PUBLIC_KEYS?: string | undefined;
  PASSAGE_ENV?: string | undefined;
}): TokenVerifier {
  if (env.AUTH_PUBLIC_KEYS) {
    // The development key is public (it is in this repository): outside development it would
    // let anyone sign in as anyone.
    const developmentKey = developmentIssuer().publicKeySetting.split(':')[1] ?? '';
    if (env.PASSAGE_ENV !== 'development' && env.AUTH_PUBLIC_KEYS.includes(developmentKey))
      throw new ConfigError(['AUTH_PUBLIC_KEYS holds the published development key: outside development use your own']);
    return TokenVerifier.fromSetting(env.AUTH_PUBLIC_KEYS);
  }
  if (env.PASSAGE_ENV === 'development') return TokenVerifier.fromSetting(developmentIssuer().publicKeySetting);
  throw new TokenError('AUTH_PUBLIC_KEYS is required outside development ("<key id>:<base64 Ed25519 public key>")');
}

/**
 * The issuer a service signs its caller tokens with (the gateway for people, the escalation
 * service for itself): SERVICE_TOKEN_KEY, "<key id>:<base64 32-byte Ed25519 seed>"; the
 * development key only with PASSAGE_ENV=development; otherwise a ConfigError: the service
 * refuses to start, naming the setting.
 */
export function issuerFromEnv(env: {
  SERVICE_TOKEN_KEY?: string | undefined;
  PASSAGE_ENV?: string | undefined;
}): TokenIssuer {
  if (env.SERVICE_TOKEN_KEY) {
    const [kid, seed] = env.SERVICE_TOKEN_KEY.split(':');
    const raw = Buffer.from(seed ?? '', 'base64');
    if (!kid || raw.length !== 32)
      throw new ConfigError(['SERVICE_TOKEN_KEY: "<key id>:<base64 32-byte Ed25519 seed>"']);
    const issuer = new TokenIssuer(kid, raw);
    const publicKey = (setting: string) => setting.split(':')[1];
    if (
      env.PASSAGE_ENV !== 'development' &&
      publicKey(issuer.publicKeySetting) === publicKey(developmentIssuer().publicKeySetting)
    )
      throw new ConfigError(['SERVICE_TOKEN_KEY is the published development key: outside development use your own']);
    return issuer;
  }
  if (env.PASSAGE_ENV === 'development') return developmentIssuer();
  throw new ConfigError(['SERVICE_TOKEN_KEY is required outside development ("<key id>:<base64 Ed25519 seed>")']);
}
