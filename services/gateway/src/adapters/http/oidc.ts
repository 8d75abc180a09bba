import * as oidc from 'openid-client';
import { PassageError } from '@passage/platform';
import type { UserRecord, UserStore } from '../../app/ports.ts';

export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUrl: string;
  readonly usernameClaim: string;
}

/**
 * OpenID Connect sign-in (authorization code flow with PKCE, state and nonce), through
 * openid-client. The issuer says who the person is; their Passage account — agency and
 * roles, set by an administrator — says what they may do.
 */
export class OidcSignIn {
  readonly #config: oidc.Configuration;
  readonly #settings: OidcSettings;
  readonly #users: UserStore;

  private constructor(config: oidc.Configuration, settings: OidcSettings, users: UserStore) {
    this.#config = config;
    this.#settings = settings;
    this.#users = users;
  }

  static async discover(settings: OidcSettings, users: UserStore): Promise<OidcSignIn> {
    const issuer = new URL(settings.issuer);
    // Plain HTTP only for an issuer on this machine (development, tests).
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
    const config = await oidc.discovery(
      issuer,
      settings.clientId,
      settings.clientSecret,
      undefined,
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- deliberate, and only for an issuer on this machine
      local ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
    return new OidcSignIn(config, settings, users);
  }

  async start(): Promise<URL> {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await this.#users.savePendingLogin(state, codeVerifier, nonce);
    return oidc.buildAuthorizationUrl(this.#config, {
      redirect_uri: this.#settings.redirectUrl,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
  }

  async finish(callbackUrl: URL): Promise<UserRecord> {
    const state = callbackUrl.searchParams.get('state') ?? '';
    const pending = await this.#users.takePendingLogin(state);
    if (!pending) throw new PassageError('unauthenticated', 'this sign-in link is unknown or expired: sign in again');
    let username: unknown;
    try {
      const tokens = await oidc.authorizationCodeGrant(this.#config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
      });
      const claims = tokens.claims();
      username = claims?.[this.#settings.usernameClaim];
      // Many providers put profile claims in userinfo only.
      if (username === undefined && claims) {
        const info = await oidc.fetchUserInfo(this.#config, tokens.access_token, claims.sub);
        username = info[this.#settings.usernameClaim];
      }
    } catch (error) {
      throw new PassageError(
        'unauthenticated',
        `the identity provider's answer was refused: ${(error as Error).message}`,
      );
    }
    if (typeof username !== 'string' || !username) {
      throw new PassageError('unauthenticated', `the identity provider did not say ${this.#settings.usernameClaim}`);
    }
    const user = await this.#users.user(username);
    if (!user) {
      throw new PassageError(
        'permission_denied',
        `no Passage account for ${username}: ask an administrator to create one`,
      );
    }
    return user;
  }
}
