import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { waitFor } from './waiting.ts';

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    callback: (error: grpc.ServiceError | null, response: { status: string }) => void,
  ): void;
}

type Reply = { listServicesResponse?: { service: { name: string }[] } };
interface ReflectionClient extends grpc.Client {
  ServerReflectionInfo(): grpc.ClientDuplexStream<{ listServices: string }, Reply>;
}

/**
 * A client without TLS, for a service started with PASSAGE_ENV=development and no GRPC_TLS_*
 * settings; one with TLS uses `testTls(...).clientCredentials` from @passage/platform/testing.
 */
export const plaintextCredentials = (): grpc.ChannelCredentials => grpc.credentials.createInsecure();

/**
 * What grpcurl would ask a server: its health (grpc.health.v1) and, through server
 * reflection, which services it offers, without any .proto file of ours.
 */
export async function healthStatus(
  address: string,
  service = '',
  credentials: grpc.ChannelCredentials = plaintextCredentials(),
): Promise<string> {
  const definition = grpc.loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials) => HealthClient } } };
  };
  const client = new definition.grpc.health.v1.Health(address, credentials);
  try {
    return await new Promise<string>((resolve, reject) => {
      client.Check({ service }, (error, response) => (error ? reject(error) : resolve(response.status)));
    });
  } finally {
    client.close();
  }
}

export async function reflectedServices(
  address: string,
  credentials: grpc.ChannelCredentials = plaintextCredentials(),
): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@grpc/reflection/package.json'));
  const definition = grpc.loadPackageDefinition(
    loadSync(join(root, 'build/proto/grpc/reflection/v1/reflection.proto')),
  ) as unknown as {
    grpc: {
      reflection: {
        v1: { ServerReflection: new (address: string, credentials: grpc.ChannelCredentials) => ReflectionClient };
      };
    };
  };
  const client = new definition.grpc.reflection.v1.ServerReflection(address, credentials);
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on('data', (response: Reply) => {
        resolve((response.listServicesResponse?.service ?? []).map((s) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ listServices: '*' });
    });
  } finally {
    client.close();
  }
}

/**
 * Waits until the gRPC server on a port answers SERVING: a service listens from the start and
 * answers NOT_SERVING (and every call UNAVAILABLE) while it waits for Postgres and NATS.
 */
export async function waitForServing(
  port: number,
  timeoutMs = 30_000,
  credentials: grpc.ChannelCredentials = plaintextCredentials(),
): Promise<void> {
  await waitFor(
    () => healthStatus(`127.0.0.1:${port}`, '', credentials).catch((error: unknown) => String(error)),
    (status) => status === 'SERVING',
    timeoutMs,
  );
}
