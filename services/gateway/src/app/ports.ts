import type { Caller } from '@passage/auth';
import type { AttemptCounts, Gate, ThrottlePolicy } from '../domain/sign-in.ts';

export interface UserRecord extends Caller {
  readonly displayName: string;
  readonly language: 'en' | 'fr';
  readonly passwordHash: string;
  /** Disabled people cannot sign in, and their sessions resolve to nothing (ADR 30). */
  readonly disabled?: boolean;
  /** Signed in with a temporary password: only a password change until they choose their own. */
  readonly mustChangePassword?: boolean;
  /** When the temporary password (mustChangePassword) stops working: sign-in then answers as a wrong password. */
  readonly temporaryPasswordExpiresAt?: Date;
}

/** What one sign-in attempt is counted under (ADR 0021). */
export interface AttemptKeys {
  readonly username: string;
  readonly address: string;
}

/** The gate's answer for one attempt; when open, the attempt is already counted as a failure. */
export interface Admission {
  readonly gate: Gate;
  readonly counts: AttemptCounts;
}

/** Told when sessions end, so what hangs on them (live feeds) ends at once. */
export interface SessionEndListener {
  sessionsEnded(ended: { readonly sessionId: string } | { readonly userId: string }): void;
}

export interface SessionRecord {
  readonly user: UserRecord;
  readonly csrfToken: string;
  readonly expiresAt: Date;
  /** The person's last input, for the idle lock (ADR 35); unset for a session from before it. */
  readonly lastInputAt?: Date | undefined;
}

export interface UserStore {
  user(userId: string): Promise<UserRecord | undefined>;
  /** The account an identity provider's subject is linked to (ADR 30). */
  userByOidcSubject(issuer: string, subject: string): Promise<UserRecord | undefined>;
  /**
   * Under row locks on the attempt's three counts: asks `gate`, and when it opens, counts the
   * attempt as a wrong password before the password is checked (parallel guesses each count).
   */
  admit(keys: AttemptKeys, now: Date, policy: ThrottlePolicy): Promise<Admission>;
  /** The password was right: the account's counts start again, the address's loses this attempt. */
  forgive(keys: AttemptKeys): Promise<void>;
  /** Revokes every open session of the account. */
  endSessions(userId: string, now: Date): Promise<void>;
  upsert(user: UserRecord): Promise<void>;
  createSession(idHash: Buffer, userId: string, csrfToken: string, expiresAt: Date, lastInputAt: Date): Promise<void>;
  /** The person is at the screen: the session's last input is `at` (ADR 35). */
  touchSession(idHash: Buffer, at: Date): Promise<void>;
  session(idHash: Buffer, now: Date): Promise<SessionRecord | undefined>;
  revokeSession(idHash: Buffer): Promise<void>;
  setLanguage(userId: string, language: 'en' | 'fr'): Promise<void>;
  savePendingLogin(state: string, codeVerifier: string, nonce: string): Promise<void>;
  /** The pending login of that state, removed; none if unknown or older than ten minutes. */
  takePendingLogin(state: string): Promise<{ codeVerifier: string; nonce: string } | undefined>;
}
