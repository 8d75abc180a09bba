import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { waitUntil } from '@passage/testing';
import {
  PassageError,
  bindService,
  createLogger,
  fromServiceError,
  grpcTransport,
  requestViolations,
  startGrpcServer,
  type RunningGrpcServer,
} from '../src/index.ts';

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
  hold: unary('/test.v1.TestService/Hold'),
  fail: unary('/test.v1.TestService/Fail'),
  echo: unary('/test.v1.TestService/Echo'),
  unsendable: unary('/test.v1.TestService/Unsendable'),
  whoAmI: unary('/test.v1.TestService/WhoAmI'),
} satisfies grpc.ServiceDefinition;

interface TestServer extends grpc.UntypedServiceImplementation {
  hold: grpc.handleUnaryCall<{ label: string }, { released: string }>;
  fail: grpc.handleUnaryCall<{ kind: string }, object>;
  echo: grpc.handleUnaryCall<{ value: string }, object>;
  unsendable: grpc.handleUnaryCall<object, object>;
  whoAmI: grpc.handleUnaryCall<object, { caller: string }>;
}

const log = createLogger('grpc-test', 'silent');
// What this file tests is the server helper, not transport security (tls.test.ts): plaintext, as in development.
const plaintext = grpcTransport({ PASSAGE_ENV: 'development' }, log);
const Client = grpc.makeGenericClientConstructor(definition, 'TestService');
let server: RunningGrpcServer | undefined;

let reachedWhoAmI = 0;
/** Calls to Hold that have reached the handler, each answering once the test releases it. */
const held = new Map<string, () => void>();

afterEach(async () => {
  await server?.shutdown(100);
  server = undefined;
  held.clear();
});

async function start(): Promise<grpc.Client & Record<string, (...args: unknown[]) => unknown>> {
  const binding = bindService<TestServer, string>(
    'test.v1.TestService',
    definition,
    {
      hold: async ({ label }) => {
        await new Promise<void>((resolve) => held.set(label, resolve));
        return { released: label };
      },
      fail: ({ kind }) => {
        if (kind === 'sync') throw new PassageError('not_found', 'thrown before any await');
        if (kind === 'reason') {
          return Promise.reject(
            new PassageError('failed_precondition', 'consent does not cover it', [], {
              reason: 'consent_does_not_cover',
            }),
          );
        }
        if (kind === 'domain') {
          return Promise.reject(PassageError.invalid([{ field: 'needs[1]', description: 'unknown need "astrology"' }]));
        }
        return Promise.reject(new Error('database password is hunter2'));
      },
      // Refuses any value, naming it in the message and the violation, as a service's validation does.
      echo: ({ value }) =>
        Promise.reject(
          PassageError.invalid([{ field: `purposes[${value}]`, description: `unknown purpose "${value}"` }]),
        ),
      // An answer the serializer cannot encode (JSON has no BigInt).
      unsendable: () => Promise.resolve({ count: 1n }),
      whoAmI: (_request, { caller }) => {
        reachedWhoAmI++;
        return Promise.resolve({ caller });
      },
    },
    log,
    {
      // The caller is whoever x-caller names; only WhoAmI needs one.
      authenticate: (metadata) => {
        const name = metadata.get('x-caller')[0];
        if (typeof name !== 'string') throw new PassageError('unauthenticated', 'who is calling?');
        return name;
      },
      publicMethods: ['Hold', 'Fail', 'Echo', 'Unsendable'],
      anonymous: 'anonymous',
    },
  );
  server = await startGrpcServer(
    { services: [binding], descriptorSet: Buffer.alloc(0), log, transport: plaintext },
    { GRPC_HOST: '127.0.0.1', GRPC_PORT: 0 },
  );
  return new Client(server.address, plaintext.clientCredentials) as never;
}

function call(client: Record<string, (...args: unknown[]) => unknown>, method: string, request: unknown) {
  return new Promise<{ response?: unknown; error?: grpc.ServiceError }>((resolve) => {
    client[method]!(request, (error: grpc.ServiceError | null, response: unknown) =>
      resolve(error ? { error } : { response }),
    );
  });
}

describe('gRPC server helper', () => {
  it('authenticates every call but the public ones before the handler, and hands the handler its caller', async () => {
    const client = await start();
    const before = reachedWhoAmI;
    const anonymous = await call(client, 'whoAmI', {});
    expect(anonymous.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(reachedWhoAmI).toBe(before);
    const metadata = new grpc.Metadata();
    metadata.set('x-caller', 'london-intake');
    const named = await new Promise<unknown>((resolve, reject) => {
      (client['whoAmI'] as (r: object, m: grpc.Metadata, cb: (e: Error | null, v: unknown) => void) => void)(
        {},
        metadata,
        (error, value) => (error ? reject(error) : resolve(value)),
      );
    });
    expect(named).toEqual({ caller: 'london-intake' });
    expect(reachedWhoAmI).toBe(before + 1);
    // A public method runs for anyone.
    expect((await call(client, 'fail', { kind: 'sync' })).error?.code).toBe(grpc.status.NOT_FOUND);
    client.close();
  });

  it('maps a PassageError to its status with the field named, once', async () => {
    const client = await start();
    const { error } = await call(client, 'fail', { kind: 'domain' });
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toBe('needs[1]: unknown need "astrology"');
    expect(fromServiceError(error).violations).toEqual([
      { field: 'needs[1]', description: 'unknown need "astrology"' },
    ]);
    client.close();
  });

  it('carries a reason code (google.rpc.ErrorInfo) with the status, and none when there is none', async () => {
    const client = await start();
    const { error } = await call(client, 'fail', { kind: 'reason' });
    expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
    const mapped = fromServiceError(error);
    expect(mapped).toMatchObject({ code: 'failed_precondition', reason: 'consent_does_not_cover', violations: [] });
    expect(fromServiceError((await call(client, 'fail', { kind: 'domain' })).error).reason).toBe('');
    client.close();
  });

  it('carries any text in a refusal, and the server keeps serving', async () => {
    const client = await start();
    // Printable-ASCII-only headers once ended the process on "enquête" or a trailing newline.
    for (const value of [
      'enquête',
      'Orléans',
      'investigation\n',
      'a\u0000b',
      '\u202eevil',
      '\ud800',
      '😀',
      'x'.repeat(100_000),
    ]) {
      const { error } = await call(client, 'echo', { value });
      expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
      const [violation] = fromServiceError(error).violations;
      // Refused by the service naming the value, or before it by the boundary naming the field.
      expect(violation?.field).toMatch(/^(purposes\[|value$)/);
    }
    const accented = fromServiceError((await call(client, 'echo', { value: 'enquête' })).error);
    expect(accented.violations).toEqual([{ field: 'purposes[enquête]', description: 'unknown purpose "enquête"' }]);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (value) => {
        const { error } = await call(client, 'echo', { value });
        expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(fromServiceError(error).violations).toHaveLength(1);
      }),
      { numRuns: 300, seed: 13 },
    );
    client.close();
  });

  it('answers INTERNAL when the answer cannot be sent, and keeps serving', async () => {
    const client = await start();
    const { error } = await call(client, 'unsendable', {});
    expect(error?.code).toBe(grpc.status.INTERNAL);
    expect((await call(client, 'fail', { kind: 'sync' })).error?.code).toBe(grpc.status.NOT_FOUND);
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
    const inFlight = call(client, 'hold', { label: 'in-flight' });
    await waitUntil(() => Promise.resolve(held.has('in-flight')), 5_000);
    const stopping = running.shutdown(5_000);
    const late = await call(client, 'hold', { label: 'late' });
    expect(late.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(held.has('late')).toBe(false);
    held.get('in-flight')!();
    expect((await inFlight).response).toEqual({ released: 'in-flight' });
    await stopping;
    server = undefined;
    client.close();
  });
});

describe('what no method accepts', () => {
  it('refuses control characters, bidirectional overrides and impossible dates, naming each field', () => {
    expect(
      requestViolations({
        receiptName: 'Ana\u202eevil',
        notes: 'line one\nline two\ttabbed',
        scopes: [{ purposes: ['referral', 'investigation\u0000'] }],
        expiresAt: new Date(-62_167_219_200_000), // year 0
        grantedAt: new Date(Number.NaN),
        when: new Date('2026-11-30T12:00:00Z'),
      }).map((violation) => violation.field),
    ).toEqual(['receiptName', 'scopes[0].purposes[1]', 'expiresAt', 'grantedAt']);
  });
});
