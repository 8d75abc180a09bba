import type { Caller } from '@passage/auth';
import type { LockoutPolicy, SignInState } from '../domain/sign-in.ts';

export interface UserRecord extends Caller {
  readonly displayName: string;
  readonly language: 'en' | 'fr';
  readonly passwordHash: string;
  readonly signIn: SignInState;
}

export interface SessionRecord {
  readonly user: UserRecord;
  readonly csrfToken: string;
  readonly expiresAt: Date;
}

export interface UserStore {
  user(userId: string): Promise<UserRecord | undefined>;
  saveSignInState(userId: string, state: SignInState): Promise<void>;
  /** Counts a wrong password in one statement (parallel guesses each count), locking per the policy. */
  recordFailure(userId: string, now: Date, policy: LockoutPolicy): Promise<void>;
  upsert(user: Omit<UserRecord, 'signIn'>): Promise<void>;
  createSession(idHash: Buffer, userId: string, csrfToken: string, expiresAt: Date): Promise<void>;
  session(idHash: Buffer, now: Date): Promise<SessionRecord | undefined>;
  revokeSession(idHash: Buffer): Promise<void>;
  setLanguage(userId: string, language: 'en' | 'fr'): Promise<void>;
  savePendingLogin(state: string, codeVerifier: string, nonce: string): Promise<void>;
  /** The pending login of that state, removed; none if unknown or older than ten minutes. */
  takePendingLogin(state: string): Promise<{ codeVerifier: string; nonce: string } | undefined>;
}
