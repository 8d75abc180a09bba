import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { IntegrationClients } from '../../app/integration-clients.ts';
import { OAuthError, type TokenRequest } from '../../domain/integration-clients.ts';
import { registerOAuth } from './oauth.ts';

// The token endpoint's HTTP, over a stand-in for the clients: what reaches them, what comes back.
async function endpoint(perMinute = 100) {
  const seen: TokenRequest[] = [];
  const clients = {
    tokenEndpoint: 'https://passage.example/oauth/token',
    issueToken: (request: TokenRequest) => {
      seen.push(request);
      if (request.method !== 'private_key_jwt' && request.secret !== 'right')
        return Promise.reject(new OAuthError('invalid_client', 'client authentication failed'));
      return Promise.resolve({ accessToken: 'a'.repeat(43), expiresIn: 600 });
    },
  } as unknown as IntegrationClients;
  const app = Fastify();
  await app.register(rateLimit, { global: false });
  await registerOAuth(app, clients, { perMinute });
  return { app, seen };
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('POST /oauth/token', () => {
  it('reads the form, answers the token with no-store, and a refusal with WWW-Authenticate', async () => {
    const { app, seen } = await endpoint();
    const issued = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: form,
      payload: 'grant_type=client_credentials&client_id=client-1&client_secret=right',
    });
    expect(issued.statusCode).toBe(200);
    expect(issued.json()).toEqual({ access_token: 'a'.repeat(43), token_type: 'Bearer', expires_in: 600 });
    expect(issued.headers['cache-control']).toBe('no-store');
    expect(issued.headers['pragma']).toBe('no-cache');
    expect(seen).toEqual([{ method: 'client_secret_post', clientId: 'client-1', secret: 'right' }]);
    const refused = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: form,
      payload: 'grant_type=client_credentials&client_id=client-1&client_secret=wrong',
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(refused.headers['www-authenticate']).toBe('Basic realm="passage", charset="UTF-8"');
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  it('refuses a body that is not a form, whatever it holds, before any client is asked', async () => {
    const { app, seen } = await endpoint();
    for (const [type, payload] of [
      ['application/json', '{"grant_type":"client_credentials"}'],
      ['text/plain', 'grant_type=client_credentials'],
    ]) {
      const answer = await app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': type },
        payload,
      });
      expect(answer.statusCode, type).toBe(400);
      expect(answer.json(), type).toMatchObject({ error: 'invalid_request' });
    }
    expect(seen).toEqual([]);
  });

  it('limits token requests from one address', async () => {
    const { app } = await endpoint(3);
    const statuses = [];
    for (let i = 0; i < 4; i += 1)
      statuses.push(
        (
          await app.inject({
            method: 'POST',
            url: '/oauth/token',
            headers: form,
            payload: 'grant_type=client_credentials&client_id=client-1&client_secret=right',
          })
        ).statusCode,
      );
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('publishes the token endpoint and what it supports (RFC 8414)', async () => {
    const { app } = await endpoint();
    expect((await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json()).toEqual({
      issuer: 'https://passage.example',
      token_endpoint: 'https://passage.example/oauth/token',
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS256'],
    });
  });
});
