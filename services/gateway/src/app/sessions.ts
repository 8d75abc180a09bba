import { createHash, randomBytes } from 'node:crypto';
import type { TokenIssuer } from '@passage/auth';
import { PassageError } from '@passage/errors';
import { addressKey, locksAccount, throttlePolicy } from '../domain/sign-in.ts';
import { decoyHash, verifyPassword } from './passwords.ts';
import type { SessionEndListener, SessionRecord, UserRecord, UserStore } from './ports.ts';

/**
 * Told of each refused password sign-in, for metrics: a wrong name or password, or the gate
 * closed (and why); `lockedOut` when this wrong password locked the address out of the account.
 * Never who or from where.
 */
export type SignInRefusal =
  | { readonly reason: 'bad_credentials'; readonly lockedOut: boolean }
  | { readonly reason: 'throttled'; readonly gate: 'address_locked' | 'account_address_locked' | 'account_slowed' };

/** The idle lock (ADR 35): a session with no input for `lockMs` is locked until its password is given again. */
export interface IdleLock {
  readonly lockMs: number;
}

/** The session behind a cookie, and whether it is locked for want of input. */
export type ResolvedSession = SessionRecord & { readonly locked: boolean };

export interface SignedIn {
  /** Goes into the HttpOnly cookie; never stored as is. */
  readonly sessionId: string;
  readonly session: SessionRecord;
}

const hashOf = (sessionId: string): Buffer => createHash('sha256').update(sessionId).digest();

/**
 * How a session is named outside its cookie — to an administrator (ListSessions), to the live
 * feeds: the digest the store keeps, never the cookie's value.
 */
export const sessionRef = (sessionId: string): string => hashOf(sessionId).toString('base64url');

/**
 * Sign-in, sessions and the caller tokens the gateway mints for the services. The gateway
 * decides nothing about referrals or consent: it says who is calling, and the services decide.
 */
export class Sessions {
  readonly #users: UserStore;
  readonly #issuer: TokenIssuer;
  readonly #ttlMs: number;
  readonly #tokens = new Map<string, { token: string; until: number }>();
  readonly #listener: SessionEndListener | undefined;
  readonly #onRefused: ((refusal: SignInRefusal) => void) | undefined;
  readonly #idle: IdleLock;
  readonly #clock: () => Date;

  constructor(
    users: UserStore,
    issuer: TokenIssuer,
    ttlMs: number,
    listener?: SessionEndListener,
    onRefused?: (refusal: SignInRefusal) => void,
    idle: IdleLock = { lockMs: 15 * 60_000 },
    clock: () => Date = () => new Date(),
  ) {
    this.#idle = idle;
    this.#clock = clock;
    this.#users = users;
    this.#issuer = issuer;
    this.#ttlMs = ttlMs;
    this.#listener = listener;
    this.#onRefused = onRefused;
  }

  /**
   * A password sign-in from `address` (ADR 0021): refused without looking at the password
   * while that address is locked out of the account or of every account, or while the
   * account is slowed after many wrong passwords from many addresses. The wrong password
   * that locks an address out of an account also ends the account's sessions.
   */
  async signIn(userId: string, password: string, address: string, now = this.#clock()): Promise<SignedIn> {
    const user = await this.#checkPassword(userId, password, address, now);
    return this.open(user, now);
  }

  /** The password check of a sign-in (throttled as one), for a sign-in or an unlock. */
  async #checkPassword(userId: string, password: string, address: string, now: Date): Promise<UserRecord> {
    // One answer for a wrong name, a wrong password and a resting address or account, in the
    // same time: none of them tells a guesser which names exist or what is counted.
    const refused = new PassageError(
      'unauthenticated',
      'wrong username or password (after several wrong tries, wait up to 15 minutes or sign in from your usual place)',
    );
    const keys = { username: userId, address: addressKey(address) };
    const admission = await this.#users.admit(keys, now, throttlePolicy);
    const user = admission.gate.open ? await this.#users.user(userId) : undefined;
    const matches = await verifyPassword(password, user ? user.passwordHash : await decoyHash);
    if (!admission.gate.open) {
      this.#onRefused?.({ reason: 'throttled', gate: admission.gate.reason });
      throw refused;
    }
    // A disabled account answers as a wrong password does (ADR 30): nothing tells a guesser it exists.
    // So does a temporary password past its 72 hours.
    const expired =
      user?.mustChangePassword === true &&
      user.temporaryPasswordExpiresAt !== undefined &&
      user.temporaryPasswordExpiresAt.getTime() <= now.getTime();
    if (!user || user.disabled || !matches || expired) {
      const lockedOut = user !== undefined && !matches && locksAccount(admission.counts);
      this.#onRefused?.({ reason: 'bad_credentials', lockedOut });
      if (lockedOut) await this.endAccountSessions(user.userId, now);
      throw refused;
    }
    await this.#users.forgive(keys);
    return user;
  }

  /**
   * Unlocks a session locked for want of input: its person's password again, checked and
   * throttled as a sign-in is (a wrong one counts). The same session goes on.
   */
  async unlock(sessionId: string, password: string, address: string, now = this.#clock()): Promise<SessionRecord> {
    const record = sessionId.length > 100 ? undefined : await this.#users.session(hashOf(sessionId), now);
    if (!record) throw new PassageError('unauthenticated', 'sign in first: no session, or it expired or was ended');
    await this.#checkPassword(record.user.userId, password, address, now);
    await this.#users.touchSession(hashOf(sessionId), now);
    return { ...record, lastInputAt: now };
  }

  /** The person is at the screen (the console saw input): the idle lock counts from now. A locked session stays locked. */
  async activity(sessionId: string, now = this.#clock()): Promise<boolean> {
    const record = await this.resolve(sessionId, now);
    if (!record || record.locked) return false;
    await this.#users.touchSession(hashOf(sessionId), now);
    return true;
  }

  /** Ends every session of the account, and what hangs on them (a lock; a password change). */
  async endAccountSessions(userId: string, now = new Date()): Promise<void> {
    await this.#users.endSessions(userId, now);
    this.sessionsEnded({ userId });
  }

  /**
   * Sessions ended in the store by someone else (an administrator): what hangs on them here
   * goes too — cached caller tokens, live feeds. `sessionId` is a session's reference (sessionRef).
   */
  sessionsEnded(ended: { readonly sessionId: string } | { readonly userId: string }): void {
    for (const key of this.#tokens.keys()) {
      const [ref, userId] = key.split('|');
      if ('userId' in ended ? userId === ended.userId : ref === ended.sessionId) this.#tokens.delete(key);
    }
    this.#listener?.sessionsEnded(ended);
  }

  /** A new session for someone already authenticated (a password above, or OpenID Connect). */
  async open(user: UserRecord, now = this.#clock()): Promise<SignedIn> {
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.#ttlMs);
    await this.#users.createSession(hashOf(sessionId), user.userId, csrfToken, expiresAt, now);
    return { sessionId, session: { user, csrfToken, expiresAt } };
  }

  /** The session behind a cookie; `locked` when it has had no input for the idle lock's time. */
  async resolve(sessionId: string | undefined, now = this.#clock()): Promise<ResolvedSession | undefined> {
    if (!sessionId || sessionId.length > 100) return undefined;
    const record = await this.#users.session(hashOf(sessionId), now);
    if (!record) return undefined;
    // In the sessions table, so every gateway process agrees (there are two in production).
    const last = record.lastInputAt;
    if (last === undefined) await this.#users.touchSession(hashOf(sessionId), now);
    return { ...record, locked: last !== undefined && now.getTime() - last.getTime() > this.#idle.lockMs };
  }

  async signOut(sessionId: string): Promise<void> {
    await this.#users.revokeSession(hashOf(sessionId));
    this.sessionsEnded({ sessionId: sessionRef(sessionId) });
  }

  /** A short-lived caller token for this person, reused for four of its five minutes. */
  tokenFor(sessionId: string, session: SessionRecord): string {
    const { userId, agencyId, roles } = session.user;
    // Keyed by who the session is now: a changed agency or role gets a new token at once.
    const key = `${sessionRef(sessionId)}|${userId}|${agencyId}|${roles.join(',')}`;
    const held = this.#tokens.get(key);
    if (held && held.until > Date.now()) return held.token;
    if (this.#tokens.size > 10_000) {
      for (const [k, v] of this.#tokens) if (v.until <= Date.now()) this.#tokens.delete(k);
    }
    const token = this.#issuer.issue({ userId, agencyId, roles }, 300);
    this.#tokens.set(key, { token, until: Date.now() + 240_000 });
    return token;
  }

  setLanguage(userId: string, language: 'en' | 'fr'): Promise<void> {
    return this.#users.setLanguage(userId, language);
  }
}
