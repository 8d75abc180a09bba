// What the gateway itself answers, outside the proto's API: the session (sign-in is the
// edge's own). Everything else the console sends and reads is in generated.ts.

export type Language = 'en' | 'fr';

export interface User {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
  readonly displayName: string;
  readonly language: Language;
}

export interface Session {
  readonly user: User;
  /**
   * Signed in with a temporary password: the gateway refuses everything but choosing one's
   * own (POST /api/session/password), so the console shows that step before anything else.
   */
  readonly mustChangePassword?: boolean;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

/** 64-bit integers arrive as text in the JSON mapping; absent means 0. */
export const num = (value: string | number | undefined): number => Number(value ?? 0);
