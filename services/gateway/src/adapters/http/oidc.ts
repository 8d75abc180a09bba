import * as oidc from 'openid-client';
import { PassageError } from '@passage/platform';
import type { UserRecord, UserStore } from '../../app/ports.ts';

export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUrl: string;
}

/**
 * OpenID Connect sign-in (authorization code flow with PKCE, state and nonce), through
 * openid-client. The issuer says who the person is (its issuer and subject); the Passage
 * account an administrator linked to that subject — agency and roles — says what they may do.
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
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(this.#config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
      });
      claims = tokens.claims();
    } catch (error) {
      throw new PassageError(
        'unauthenticated',
        `the identity provider's answer was refused: ${(error as Error).message}`,
      );
    }
    if (!claims?.sub)
      throw new PassageError('unauthenticated', 'the identity provider did not say who signed in (sub)');
    // The issuer's subject, linked to an account by an administrator (ADR 30): never a claim
    // the person could change at the provider, such as a username or an email.
    const user = await this.#users.userByOidcSubject(claims.iss, claims.sub);
    if (!user) {
      throw new PassageError(
        'permission_denied',
        'no Passage account is linked to this identity-provider account: ask an administrator to link it',
      );
    }
    if (user.disabled) throw new PassageError('permission_denied', 'this Passage account is disabled');
    return user;
  }
}
