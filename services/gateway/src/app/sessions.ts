import { createHash, randomBytes } from 'node:crypto';
import type { TokenIssuer } from '@passage/auth';
import { PassageError } from '@passage/platform';
import { afterFailure, afterSuccess, isLocked } from '../domain/sign-in.ts';
import { decoyHash, verifyPassword } from './passwords.ts';
import type { SessionRecord, UserRecord, UserStore } from './ports.ts';

export interface SignedIn {
  /** Goes into the HttpOnly cookie; never stored as is. */
  readonly sessionId: string;
  readonly session: SessionRecord;
}

const hashOf = (sessionId: string): Buffer => createHash('sha256').update(sessionId).digest();

/**
 * Sign-in, sessions and the caller tokens the gateway mints for the services. The gateway
 * decides nothing about referrals or consent: it says who is calling, and the services decide.
 */
export class Sessions {
  readonly #users: UserStore;
  readonly #issuer: TokenIssuer;
  readonly #ttlMs: number;
  readonly #tokens = new Map<string, { token: string; until: number }>();

  constructor(users: UserStore, issuer: TokenIssuer, ttlMs: number) {
    this.#users = users;
    this.#issuer = issuer;
    this.#ttlMs = ttlMs;
  }

  async signIn(userId: string, password: string, now = new Date()): Promise<SignedIn> {
    const wrong = new PassageError('unauthenticated', 'wrong username or password');
    const user = await this.#users.user(userId);
    if (!user) {
      await verifyPassword(password, await decoyHash);
      throw wrong;
    }
    if (isLocked(user.signIn, now)) {
      throw new PassageError(
        'resource_exhausted',
        `too many wrong passwords: this account is locked until ${user.signIn.lockedUntil!.toISOString()}`,
      );
    }
    if (!(await verifyPassword(password, user.passwordHash))) {
      await this.#users.saveSignInState(user.userId, afterFailure(user.signIn, now));
      throw wrong;
    }
    await this.#users.saveSignInState(user.userId, afterSuccess);
    return this.open(user, now);
  }

  /** A new session for someone already authenticated (a password above, or OpenID Connect). */
  async open(user: UserRecord, now = new Date()): Promise<SignedIn> {
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.#ttlMs);
    await this.#users.createSession(hashOf(sessionId), user.userId, csrfToken, expiresAt);
    return { sessionId, session: { user, csrfToken, expiresAt } };
  }

  async resolve(sessionId: string | undefined, now = new Date()): Promise<SessionRecord | undefined> {
    if (!sessionId || sessionId.length > 100) return undefined;
    return this.#users.session(hashOf(sessionId), now);
  }

  async signOut(sessionId: string): Promise<void> {
    this.#tokens.delete(sessionId);
    await this.#users.revokeSession(hashOf(sessionId));
  }

  /** A short-lived caller token for this person, reused for four of its five minutes. */
  tokenFor(sessionId: string, session: SessionRecord): string {
    const held = this.#tokens.get(sessionId);
    if (held && held.until > Date.now()) return held.token;
    const { userId, agencyId, roles } = session.user;
    const token = this.#issuer.issue({ userId, agencyId, roles }, 300);
    this.#tokens.set(sessionId, { token, until: Date.now() + 240_000 });
    return token;
  }

  setLanguage(userId: string, language: 'en' | 'fr'): Promise<void> {
    return this.#users.setLanguage(userId, language);
  }
}
