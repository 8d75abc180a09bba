import type { Metadata } from '@grpc/grpc-js';
import { PassageError, bearerToken } from '@passage/platform';
import type { Caller, Role } from './roles.ts';
import { TokenError, TokenVerifier, developmentIssuer } from './tokens.ts';

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
  if (env.AUTH_PUBLIC_KEYS) return TokenVerifier.fromSetting(env.AUTH_PUBLIC_KEYS);
  if (env.PASSAGE_ENV === 'development') return TokenVerifier.fromSetting(developmentIssuer().publicKeySetting);
  throw new TokenError('AUTH_PUBLIC_KEYS is required outside development ("<key id>:<base64 Ed25519 public key>")');
}
