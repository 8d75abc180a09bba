import type { KeyObject } from 'node:crypto';
import { JwsError, privateKeyFromSeed, publicKeyFromRaw, rawPublicKey, signJws, verifyJws } from '@passage/crypto';
import { isRole, type Caller, type Role } from './roles.ts';

/** What a token proves and for how long. */
interface Claims {
  iss: 'passage';
  sub: string;
  agency: string;
  roles: Role[];
  iat: number;
  exp: number;
}

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** Issues short-lived caller tokens (the gateway does, and the dev-token command). */
export class TokenIssuer {
  readonly #key: KeyObject;
  readonly #kid: string;

  constructor(kid: string, seed: Buffer) {
    this.#kid = kid;
    this.#key = privateKeyFromSeed(seed);
  }

  get publicKeySetting(): string {
    return `${this.#kid}:${rawPublicKey(this.#key).toString('base64')}`;
  }

  issue(caller: Caller, ttlSeconds = 900, now = Date.now()): string {
    const iat = Math.floor(now / 1000);
    const claims: Claims = {
      iss: 'passage',
      sub: caller.userId,
      agency: caller.agencyId,
      roles: [...caller.roles],
      iat,
      exp: iat + ttlSeconds,
    };
    return signJws(claims, this.#key, this.#kid);
  }
}

/** Verifies tokens against the configured public keys (AUTH_PUBLIC_KEYS). */
export class TokenVerifier {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  /**
   * Tokens already verified, until they expire: a signature check costs ~0.14 ms on this
   * hardware and a caller sends the same token on every call. Bounded; oldest out first.
   */
  readonly #verified = new Map<string, { caller: Caller; expiresAtMs: number }>();
  static readonly cacheSize = 10_000;

  constructor(keys: ReadonlyMap<string, KeyObject>) {
    this.#keys = keys;
  }

  /** "kid:base64 raw Ed25519 public key[,…]" */
  static fromSetting(setting: string): TokenVerifier {
    const keys = new Map<string, KeyObject>();
    for (const part of setting
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const separator = part.indexOf(':');
      if (separator < 1) throw new TokenError('AUTH_PUBLIC_KEYS entries are "<key id>:<base64 Ed25519 public key>"');
      keys.set(part.slice(0, separator), publicKeyFromRaw(Buffer.from(part.slice(separator + 1), 'base64')));
    }
    if (keys.size === 0) throw new TokenError('AUTH_PUBLIC_KEYS lists no key');
    return new TokenVerifier(keys);
  }

  verify(token: string, now = Date.now()): Caller {
    const cached = this.#verified.get(token);
    if (cached) {
      if (cached.expiresAtMs > now) return cached.caller;
      this.#verified.delete(token);
    }
    return this.#verifySignature(token, now);
  }

  #verifySignature(token: string, now: number): Caller {
    let claims: Partial<Claims>;
    try {
      claims = verifyJws(token, (kid) => this.#keys.get(kid)) as Partial<Claims>;
    } catch (error) {
      throw new TokenError(error instanceof JwsError ? `token rejected: ${error.message}` : 'token rejected');
    }
    if (claims.iss !== 'passage' || typeof claims.sub !== 'string' || typeof claims.agency !== 'string') {
      throw new TokenError('token rejected: missing claims');
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now)
      throw new TokenError('token expired; sign in again');
    const roles = Array.isArray(claims.roles)
      ? claims.roles.filter((r): r is Role => typeof r === 'string' && isRole(r))
      : [];
    const caller: Caller = { userId: claims.sub, agencyId: claims.agency, roles };
    if (this.#verified.size >= TokenVerifier.cacheSize) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, { caller, expiresAtMs: claims.exp * 1000 });
    return caller;
  }

  /** How many verified tokens are remembered (for tests and metrics). */
  get cachedTokens(): number {
    return this.#verified.size;
  }
}

/**
 * Development signing key, fixed so tokens survive restarts on a developer machine.
 * Never accepted outside PASSAGE_ENV=development (see authFromEnv).
 */
export const developmentIssuer = (): TokenIssuer => new TokenIssuer('dev-insecure', Buffer.alloc(32, 0x42));
