import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from './logger.ts';
import {
  PassageError,
  errorCodeOfGrpcStatus,
  grpcStatusOf,
  isPassageError,
  isTransientDependencyError,
} from './errors.ts';
import { decodeViolations, encodeStatusDetails, safeStatusMessage, statusDetailsKey } from './status-details.ts';

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
      const where = `${name}/${method}`;
      // The boundary: whatever the handler throws or answers, and whatever grpc-js throws while
      // sending it, ends as a status on this call and never as an exception that ends the process.
      const answer = (error: Partial<grpc.StatusObject> | null, response?: unknown): void => {
        try {
          callback(error, response);
        } catch (sendError) {
          log.error({ err: sendError, method: where }, 'could not send the gRPC answer');
          try {
            callback({ code: grpc.status.INTERNAL, details: internalDetails });
          } catch {
            // The call is already answered or gone: nothing more can be sent on it.
          }
        }
      };
      // Through a promise even when the handler throws before its first await.
      Promise.resolve()
        .then(() => handler(call.request, { metadata: call.metadata, signal: abort.signal }))
        .then(
          (response) => answer(null, response),
          (error: unknown) => answer(toServiceError(error, where, log)),
        )
        .catch((error: unknown) => log.error({ err: error, method: where }, 'gRPC boundary failed'));
    };
  }
  return { name, definition, implementation };
}

const internalDetails = 'internal error; the service logged the cause';

/**
 * The one mapping of a thrown value to a gRPC status. A PassageError keeps its code and message;
 * its field violations travel as google.rpc.BadRequest in `grpc-status-details-bin`, which holds
 * any text (a text header holds printable ASCII only). Anything else is logged and answered as
 * INTERNAL, its internals never passed on.
 */
export function toServiceError(error: unknown, where: string, log: Logger): Partial<grpc.StatusObject> {
  if (isPassageError(error)) {
    const code = grpcStatusOf(error.code);
    const metadata = new grpc.Metadata();
    if (error.violations.length > 0)
      metadata.set(statusDetailsKey, encodeStatusDetails(code, error.message, error.violations));
    return { code, details: safeStatusMessage(error.message), metadata };
  }
  if (isTransientDependencyError(error)) {
    log.warn({ err: error, method: where }, 'a dependency is unavailable');
    return { code: grpc.status.UNAVAILABLE, details: 'a dependency of the service is unavailable; try again shortly' };
  }
  log.error({ err: error, method: where }, 'unhandled error in gRPC handler');
  return { code: grpc.status.INTERNAL, details: internalDetails };
}

/** Turns a failed client call back into a PassageError with the same code, message and field violations. */
export function fromServiceError(error: unknown): PassageError {
  if (isPassageError(error)) return error;
  const serviceError = error as Partial<grpc.ServiceError>;
  if (typeof serviceError.code === 'number') {
    return new PassageError(
      errorCodeOfGrpcStatus(serviceError.code),
      serviceError.details ?? String(error),
      decodeViolations(serviceError.metadata),
    );
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

  return {
    port: boundPort,
    address,
    async shutdown(graceMs: number): Promise<void> {
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
