import type { FastifyInstance, FastifyReply } from 'fastify';
import type { IntegrationClients } from '../../app/integration-clients.ts';
import { OAuthError, formValues, parseTokenRequest } from '../../domain/integration-clients.ts';

/**
 * The OAuth 2.0 token endpoint for integration clients (ADR 45): `POST /oauth/token`, the
 * client-credentials grant (RFC 6749 §4.4) with client_secret_basic, client_secret_post or
 * private_key_jwt (RFC 7523), answered as RFC 6749 §5.1 and §5.2 say; and the authorization
 * server's metadata (RFC 8414). Form-encoded, with answers of its own: written here rather than
 * generated from the proto.
 */
export async function registerOAuth(
  app: FastifyInstance,
  clients: IntegrationClients,
  options: { readonly perMinute: number },
): Promise<void> {
  const endpoint = new URL(clients.tokenEndpoint);
  const refusal = (reply: FastifyReply, error: OAuthError) => {
    // A client that tried to authenticate and failed is told how to (RFC 6749 §5.2).
    if (error.status === 401) reply.header('www-authenticate', 'Basic realm="passage", charset="UTF-8"');
    return { status: error.status, body: { error: error.error, error_description: error.message } };
  };
  await app.register((scope, _options, done) => {
    // Only this route takes a form; its body is read as text and parsed below, whatever it claims.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 32 * 1024 }, (_request, body, done) =>
      done(null, body),
    );
    scope.post(
      '/oauth/token',
      {
        config: { rateLimit: { max: options.perMinute, timeWindow: '1 minute' } },
        schema: {
          summary:
            'An access token for an integration client (OAuth 2.0 client credentials: client_secret_basic, client_secret_post or private_key_jwt); form-encoded',
          tags: ['oauth'],
        },
      },
      async (request, reply) => {
        // Neither a browser's nor a proxy's cache ever keeps a token (RFC 6749 §5.1).
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        let answer: { status: number; body: Record<string, unknown> };
        try {
          if (type !== 'application/x-www-form-urlencoded')
            throw new OAuthError('invalid_request', 'send the parameters as application/x-www-form-urlencoded');
          const form = formValues(typeof request.body === 'string' ? request.body : '');
          const issued = await clients.issueToken(parseTokenRequest(form, request.headers.authorization));
          answer = {
            status: 200,
            body: { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn },
          };
        } catch (error) {
          if (!(error instanceof OAuthError)) throw error;
          answer = refusal(reply, error);
        }
        return reply.code(answer.status).send(answer.body);
      },
    );
    done();
  });
  app.get(
    '/.well-known/oauth-authorization-server',
    { schema: { summary: 'The token endpoint and what it supports (RFC 8414)', tags: ['oauth'] } },
    (_request, reply) =>
      reply.header('cache-control', 'no-store').send({
        issuer: endpoint.origin,
        token_endpoint: endpoint.toString(),
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS256'],
      }),
  );
}
