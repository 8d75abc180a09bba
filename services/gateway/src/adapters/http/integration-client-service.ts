import { identity, type ApiContract } from '@passage/contracts';
import { PassageError } from '@passage/platform';
import type { ClientRecord, IntegrationClients } from '../../app/integration-clients.ts';
import type { AuthMethod, Manager } from '../../domain/integration-clients.ts';
import type { LocalService } from './api-routes.ts';
import { localService, type LocalHandlers } from './local-service.ts';

const { ClientAuthMethod } = identity;

const methodOf = (method: identity.ClientAuthMethod): AuthMethod =>
  method === ClientAuthMethod.CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT ? 'private_key_jwt' : 'client_secret';

const clientOf = (client: ClientRecord): identity.IntegrationClient => ({
  clientId: client.clientId,
  agencyId: client.agencyId,
  name: client.name,
  authMethod:
    client.authMethod === 'private_key_jwt'
      ? ClientAuthMethod.CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT
      : ClientAuthMethod.CLIENT_AUTH_METHOD_CLIENT_SECRET,
  keyThumbprint: client.keyThumbprint,
  keyAlgorithm: client.keyAlgorithm,
  createdBy: client.createdBy,
  createdAt: client.createdAt,
  rotatedAt: client.rotatedAt,
  previousValidUntil: client.previousValidUntil,
  revokedAt: client.revokedAt,
  revokedBy: client.revokedBy,
});

/** passage.identity.v1.IntegrationClientService, in the gateway's process (ADR 45). */
export function integrationClientService(clients: IntegrationClients, contract: ApiContract): LocalService {
  const handlers: LocalHandlers<typeof identity.IntegrationClientServiceService, Manager> = {
    createIntegrationClient: async (request, manager) => {
      const made = await clients.create(manager, {
        agencyId: request.agencyId || manager.agencyId,
        name: request.name,
        authMethod: methodOf(request.authMethod),
        publicJwk: request.publicJwk,
      });
      return { client: clientOf(made.client), clientSecret: made.clientSecret, tokenEndpoint: clients.tokenEndpoint };
    },
    listIntegrationClients: async (request, manager) => ({
      clients: (await clients.list(manager, request.agencyId, request.includeRevoked)).map(clientOf),
    }),
    rotateIntegrationClient: async (request, manager) => {
      const rotated = await clients.rotate(manager, request.clientId, {
        publicJwk: request.publicJwk,
        previousValidSeconds: request.previousValidSeconds,
      });
      return { client: clientOf(rotated.client), clientSecret: rotated.clientSecret };
    },
    revokeIntegrationClient: async (request, manager) => {
      const revoked = await clients.revoke(manager, request.clientId);
      return { client: clientOf(revoked.client), tokensEnded: revoked.tokensEnded };
    },
  };
  return localService(
    'IntegrationClientService',
    identity.IntegrationClientServiceService,
    contract,
    handlers,
    (session) => {
      if (!session) throw new PassageError('unauthenticated', 'sign in first');
      const { userId, agencyId, roles } = session.record.user;
      return { userId, agencyId, roles };
    },
  );
}
