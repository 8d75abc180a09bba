import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { PassageError, bindService, createLogger, startGrpcServer, type RunningGrpcServer } from '../src/index.ts';

// A hand-written service with JSON messages: enough to exercise the server helper without
// any service's contracts.
const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};
function unary(path: string): grpc.MethodDefinition<unknown, unknown> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}
const definition = {
  wait: unary('/test.v1.TestService/Wait'),
  fail: unary('/test.v1.TestService/Fail'),
} satisfies grpc.ServiceDefinition;

interface TestServer extends grpc.UntypedServiceImplementation {
  wait: grpc.handleUnaryCall<{ ms: number }, { waited: number }>;
  fail: grpc.handleUnaryCall<{ kind: string }, object>;
}

const log = createLogger('grpc-test', 'silent');
const Client = grpc.makeGenericClientConstructor(definition, 'TestService');
let server: RunningGrpcServer | undefined;

afterEach(async () => {
  await server?.shutdown(100);
  server = undefined;
});

async function start(): Promise<grpc.Client & Record<string, (...args: unknown[]) => unknown>> {
  const binding = bindService<TestServer>(
    'test.v1.TestService',
    definition,
    {
      wait: async ({ ms }) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return { waited: ms };
      },
      fail: ({ kind }) => {
        if (kind === 'sync') throw new PassageError('not_found', 'thrown before any await');
        if (kind === 'domain') {
          return Promise.reject(PassageError.invalid([{ field: 'needs[1]', description: 'unknown need "astrology"' }]));
        }
        return Promise.reject(new Error('database password is hunter2'));
      },
    },
    log,
  );
  server = await startGrpcServer({ services: [binding], descriptorSet: Buffer.alloc(0), log }, '127.0.0.1', 0);
  return new Client(server.address, grpc.credentials.createInsecure()) as never;
}

function call(client: Record<string, (...args: unknown[]) => unknown>, method: string, request: unknown) {
  return new Promise<{ response?: unknown; error?: grpc.ServiceError }>((resolve) => {
    client[method]!(request, (error: grpc.ServiceError | null, response: unknown) =>
      resolve(error ? { error } : { response }),
    );
  });
}

describe('gRPC server helper', () => {
  it('maps a PassageError to its status with the field named, once', async () => {
    const client = await start();
    const { error } = await call(client, 'fail', { kind: 'domain' });
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toBe('needs[1]: unknown need "astrology"');
    expect(error?.metadata.get('field-violation')).toEqual(['needs[1]: unknown need "astrology"']);
    client.close();
  });

  it('maps an error thrown before the handler awaits anything just the same', async () => {
    const client = await start();
    const { error } = await call(client, 'fail', { kind: 'sync' });
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(error?.details).toBe('thrown before any await');
    client.close();
  });

  it('answers INTERNAL for anything else without leaking its message', async () => {
    const client = await start();
    const { error } = await call(client, 'fail', { kind: 'bug' });
    expect(error?.code).toBe(grpc.status.INTERNAL);
    expect(error?.details).not.toContain('hunter2');
    client.close();
  });

  it('drains an in-flight call on shutdown and refuses new ones', async () => {
    const client = await start();
    const running = server!;
    const inFlight = call(client, 'wait', { ms: 300 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopping = running.shutdown(5_000);
    const late = await call(client, 'wait', { ms: 1 });
    expect(late.error).toBeDefined();
    expect((await inFlight).response).toEqual({ waited: 300 });
    await stopping;
    server = undefined;
    client.close();
  });
});
