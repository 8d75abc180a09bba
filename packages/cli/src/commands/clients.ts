import { readFileSync } from 'node:fs';
import { UsageError } from '../connection.ts';
import { formatRows, type Format, type Row } from '../output.ts';
import { need, withGateway } from './people.ts';

const service = 'passage.identity.v1.IntegrationClientService';

export interface ClientFlags {
  readonly as?: string | undefined;
  readonly format: Format;
  readonly agency?: string | undefined;
  readonly name?: string | undefined;
  readonly jwk?: string | undefined;
  readonly grace?: string | undefined;
  readonly revoked?: boolean | undefined;
}

interface Client {
  clientId: string;
  agencyId: string;
  name: string;
  authMethod: string;
  keyThumbprint: string;
  keyAlgorithm: string;
  createdBy: string;
  createdAt: string;
  rotatedAt?: string;
  previousValidUntil?: string;
  revokedAt?: string;
}

const columns = ['clientId', 'agencyId', 'name', 'method', 'key', 'state', 'createdBy'];

function clientRow(client: Client): Row {
  return {
    clientId: client.clientId,
    agencyId: client.agencyId,
    name: client.name,
    method: client.authMethod === 'CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT' ? 'private_key_jwt' : 'client_secret',
    key: client.keyThumbprint ? `${client.keyAlgorithm} ${client.keyThumbprint}` : '',
    state: client.revokedAt
      ? `revoked ${client.revokedAt}`
      : client.previousValidUntil
        ? `previous credential until ${client.previousValidUntil}`
        : 'active',
    createdBy: client.createdBy,
  };
}

/** The public key a private_key_jwt client signs its assertions with: a JWK file (never the private key). */
const jwkFrom = (path: string | undefined): string => (path ? readFileSync(path, 'utf8') : '');

/** What the system's operator needs, printed once: the secret is never shown again. */
function printCredentials(
  made: { client: Client; clientSecret: string; tokenEndpoint?: string },
  print: (line: string) => void,
): void {
  if (made.tokenEndpoint) print(`token endpoint (and aud of assertions): ${made.tokenEndpoint}`);
  if (made.clientSecret) print(`client secret (shown once): ${made.clientSecret}`);
}

/** pnpm passage clients create|list|rotate|revoke … (ADR 45). */
export function clientsCommand(
  command: string,
  argument: string | undefined,
  env: NodeJS.ProcessEnv,
  flags: ClientFlags,
  print: (line: string) => void,
): Promise<number> {
  const show = (client: Client) => print(formatRows([clientRow(client)], columns, flags.format));
  const clientId = (): string => need(argument, `the client id (passage clients ${command} CLIENT_ID)`);
  return withGateway(env, flags, async (gateway) => {
    switch (command) {
      case 'create': {
        const jwk = jwkFrom(flags.jwk);
        const made = await gateway.call<{ client: Client; clientSecret: string; tokenEndpoint: string }>(
          service,
          'CreateIntegrationClient',
          {
            agencyId: need(argument, 'the agency id (passage clients create AGENCY --name NAME)'),
            name: need(flags.name, '--name'),
            authMethod: jwk ? 'CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT' : 'CLIENT_AUTH_METHOD_CLIENT_SECRET',
            publicJwk: jwk,
          },
        );
        show(made.client);
        printCredentials(made, print);
        return 0;
      }
      case 'list': {
        const listed = await gateway.call<{ clients: Client[] }>(service, 'ListIntegrationClients', {
          agencyId: flags.agency ?? '',
          includeRevoked: flags.revoked === true,
        });
        print(formatRows(listed.clients.map(clientRow), columns, flags.format));
        return 0;
      }
      case 'rotate': {
        const grace = flags.grace === undefined ? 0 : Number(flags.grace);
        if (!Number.isInteger(grace) || grace < 0) throw new UsageError('--grace: whole seconds, 0 to 86400');
        const rotated = await gateway.call<{ client: Client; clientSecret: string }>(
          service,
          'RotateIntegrationClient',
          { clientId: clientId(), publicJwk: jwkFrom(flags.jwk), previousValidSeconds: grace },
        );
        show(rotated.client);
        printCredentials(rotated, print);
        return 0;
      }
      case 'revoke': {
        const revoked = await gateway.call<{ client: Client; tokensEnded: number }>(
          service,
          'RevokeIntegrationClient',
          {
            clientId: clientId(),
          },
        );
        show(revoked.client);
        print(`tokens ended: ${revoked.tokensEnded}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "clients ${command}"`);
    }
  });
}
