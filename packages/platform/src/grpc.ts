import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from './logger.ts';
import { PassageError, errorCodeOfGrpcStatus, grpcStatusOf, isPassageError } from './errors.ts';

/** What a handler may know of its call: the metadata (caller identity) and cancellation. */
export interface CallContext {
  readonly metadata: grpc.Metadata;
  readonly signal: AbortSignal;
}

type AsyncUnary<Req, Res> = (request: Req, context: CallContext) => Promise<Res>;

/** A service's handlers written as plain async functions; `bindService` adapts them to grpc-js. */
export type AsyncService<S extends grpc.UntypedServiceImplementation> = {
  // Drops the index signature grpc-js puts on every server interface, keeping the named methods.
  [K in keyof S as string extends K ? never : K]: S[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? AsyncUnary<Req, Res>
    : never;
};

export interface ServiceBinding {
  /** Fully qualified name, for health status, e.g. "passage.directory.v1.DirectoryService". */
  readonly name: string;
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

/**
 * Adapts async handlers to grpc-js and maps every failure exactly once: a PassageError
 * becomes its gRPC status with its message; anything else is logged and answered as
 * INTERNAL without internals leaking to the caller.
 */
export function bindService<S extends grpc.UntypedServiceImplementation>(
  name: string,
  definition: grpc.ServiceDefinition,
  handlers: AsyncService<S>,
  log: Logger,
): ServiceBinding {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(definition)) {
    const handler = (handlers as Record<string, AsyncUnary<unknown, unknown> | undefined>)[method];
    if (!handler) throw new Error(`${name}.${method} has no handler`);
    implementation[method] = (
      call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ): void => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      // Through a promise even when the handler throws before its first await.
      Promise.resolve()
        .then(() => handler(call.request, { metadata: call.metadata, signal: abort.signal }))
        .then(
          (response) => callback(null, response),
          (error: unknown) => callback(toServiceError(error, `${name}/${method}`, log)),
        );
    };
  }
  return { name, definition, implementation };
}

function toServiceError(error: unknown, where: string, log: Logger): Partial<grpc.StatusObject> {
  if (isPassageError(error)) {
    const metadata = new grpc.Metadata();
    for (const violation of error.violations)
      metadata.add('field-violation', `${violation.field}: ${violation.description}`);
    return { code: grpcStatusOf(error.code), details: error.message, metadata };
  }
  log.error({ err: error, method: where }, 'unhandled error in gRPC handler');
  return { code: grpc.status.INTERNAL, details: 'internal error; the service logged the cause' };
}

/** Turns a failed client call back into a PassageError with the same code and message. */
export function fromServiceError(error: unknown): PassageError {
  if (isPassageError(error)) return error;
  const serviceError = error as Partial<grpc.ServiceError>;
  if (typeof serviceError.code === 'number') {
    return new PassageError(errorCodeOfGrpcStatus(serviceError.code), serviceError.details ?? String(error));
  }
  return new PassageError('internal', String(error));
}

export interface GrpcServerOptions {
  readonly services: readonly ServiceBinding[];
  /** The FileDescriptorSet from `buf build`, served by reflection. */
  readonly descriptorSet: Buffer;
  readonly log: Logger;
}

export interface RunningGrpcServer {
  readonly port: number;
  readonly address: string;
  /** Marks every service NOT_SERVING, refuses new calls, waits for in-flight ones (up to graceMs). */
  shutdown(graceMs: number): Promise<void>;
  /** Sets the health of the server and every service it serves (no effect once shutting down). */
  setServing(serving: boolean): void;
}

/** A gRPC server with grpc.health.v1 and server reflection (grpcurl needs no .proto files). */
export async function startGrpcServer(
  options: GrpcServerOptions,
  host: string,
  port: number,
): Promise<RunningGrpcServer> {
  const server = new grpc.Server();
  for (const service of options.services) server.addService(service.definition, service.implementation);

  const health = new HealthImplementation({
    '': 'SERVING',
    ...Object.fromEntries(options.services.map((service) => [service.name, 'SERVING' as const])),
  });
  health.addToServer(server);
  // The descriptor set holds every Passage proto; reflection lists only what this server serves.
  new ReflectionService(loadFileDescriptorSetFromBuffer(options.descriptorSet), {
    services: options.services.map((service) => service.name),
  }).addToServer(server);

  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  const address = `${host}:${boundPort}`;
  options.log.info({ listen: address, services: options.services.map((s) => s.name) }, 'gRPC server listening');

  let stopping = false;
  return {
    port: boundPort,
    address,
    setServing(serving: boolean): void {
      if (stopping) return;
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      for (const service of options.services) health.setStatus(service.name, status);
    },
    async shutdown(graceMs: number): Promise<void> {
      stopping = true;
      health.setStatus('', 'NOT_SERVING');
      for (const service of options.services) health.setStatus(service.name, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          options.log.warn({ graceMs }, 'in-flight gRPC calls did not finish in time; forcing shutdown');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

/** Reads a bearer token from call metadata, or undefined. */
export function bearerToken(metadata: grpc.Metadata): string | undefined {
  const [value] = metadata.get('authorization');
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value);
  return match?.[1];
}
