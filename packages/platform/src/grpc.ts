import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { forbiddenInText, inTimestampRange, ruleViolations } from '@passage/contracts';
import { apiContract } from '@passage/contracts/descriptor';
import type { BaseConfig } from './config.ts';
import { listenForProbes, type HealthListener } from './health-http.ts';
import type { Logger } from './logger.ts';
import { listenForMetrics, metrics, type MetricsListener } from './metrics.ts';
import type { GrpcTransport } from './tls.ts';
import {
  PassageError,
  type FieldViolation,
  errorCodeOfGrpcStatus,
  grpcStatusOf,
  isPassageError,
  isTransientDependencyError,
} from './errors.ts';
import {
  decodeReason,
  decodeViolations,
  encodeStatusDetails,
  safeStatusMessage,
  statusDetailsKey,
} from './status-details.ts';

/** What a handler may know of its call: who is calling, the metadata and cancellation. */
export interface CallContext<C = unknown> {
  /** The authenticated caller; for a public method, `anonymous` when the call carries no valid identity. */
  readonly caller: C;
  readonly metadata: grpc.Metadata;
  readonly signal: AbortSignal;
}

type AsyncUnary<Req, Res, C> = (request: Req, context: CallContext<C>) => Promise<Res>;

/** A service's handlers written as plain async functions; `bindService` adapts them to grpc-js. */
export type AsyncService<S extends grpc.UntypedServiceImplementation, C = unknown> = {
  // Drops the index signature grpc-js puts on every server interface, keeping the named methods.
  [K in keyof S as string extends K ? never : K]: S[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? AsyncUnary<Req, Res, C>
    : never;
};

/**
 * How a service knows its callers. Every method is authenticated before its handler runs
 * (`authenticate` throws UNAUTHENTICATED) unless it is named in `publicMethods`: those run
 * for anyone, with the caller when the call carries a valid identity and `anonymous` when not.
 */
export interface Authentication<C> {
  readonly authenticate: (metadata: grpc.Metadata) => C;
  readonly publicMethods?: readonly string[];
  readonly anonymous?: C;
}

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
export function bindService<S extends grpc.UntypedServiceImplementation, C>(
  name: string,
  definition: grpc.ServiceDefinition,
  handlers: AsyncService<S, C>,
  log: Logger,
  authentication: Authentication<C>,
): ServiceBinding {
  const implementation: grpc.UntypedServiceImplementation = {};
  const contract = apiContract();
  for (const method of Object.keys(definition)) {
    const handler = (handlers as Record<string, AsyncUnary<unknown, unknown, C> | undefined>)[method];
    const methodName = definition[method]!.path.split('/').at(-1) ?? method;
    const isPublic = authentication.publicMethods?.includes(methodName) ?? false;
    if (isPublic && authentication.anonymous === undefined)
      throw new Error(`${name}.${methodName} is public: an anonymous caller is needed`);
    const callerOf = (metadata: grpc.Metadata): C => {
      if (!isPublic) return authentication.authenticate(metadata);
      try {
        return authentication.authenticate(metadata);
      } catch {
        return authentication.anonymous as C;
      }
    };
    if (!handler) throw new Error(`${name}.${method} has no handler`);
    // The field rules the proto declares for this method's request (ADR 24).
    const input = contract.methodOf(definition[method]!.path)?.input;
    implementation[method] = (
      call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ): void => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      const where = `${name}/${method}`;
      const started = performance.now();
      // The boundary: whatever the handler throws or answers, and whatever grpc-js throws while
      // sending it, ends as a status on this call and never as an exception that ends the process.
      const answer = (error: Partial<grpc.StatusObject> | null, response?: unknown): void => {
        // Per method and status code: the rate, errors and latency of every call (ADR 31).
        const outcome = { method: `${name}/${methodName}`, code: grpc.status[error?.code ?? grpc.status.OK] };
        metrics().add('rpcCalls', outcome);
        metrics().record('rpcDuration', (performance.now() - started) / 1000, outcome);
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
        .then(() => {
          if (call.request instanceof Undecodable) {
            throw new PassageError('invalid_argument', `the request could not be decoded: ${call.request.reason}`);
          }
          // Who is calling, before what is asked is read: no identity, no handler.
          const caller = callerOf(call.metadata);
          const refused = input ? ruleViolations(contract, input, call.request) : requestViolations(call.request);
          if (refused.length > 0) throw PassageError.invalid(refused);
          return handler(call.request, { caller, metadata: call.metadata, signal: abort.signal });
        })
        .then(
          (response) => answer(null, response),
          (error: unknown) => answer(toServiceError(error, where, log)),
        )
        .catch((error: unknown) => log.error({ err: error, method: where }, 'gRPC boundary failed'));
    };
  }
  return { name, definition, implementation };
}

/**
 * grpc-js answers INTERNAL when a request cannot be decoded (e.g. an int64 beyond 2^53): the
 * bad request is the caller's, so the bytes become an Undecodable that the handler boundary
 * answers as INVALID_ARGUMENT.
 */
function decodingDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const decoding: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [method, original] of Object.entries(definition)) {
    decoding[method] = {
      ...original,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return original.requestDeserialize(bytes);
        } catch (error) {
          return new Undecodable(error instanceof Error ? error.message : String(error));
        }
      },
    };
  }
  return decoding;
}

/**
 * What no value accepts, for a request (or a document) no proto describes: a timestamp outside
 * what a Timestamp may hold (year 0, a date no clock knows), and text with a forbidden character
 * (`forbiddenInText`). Each is refused naming its field. A method the descriptor set knows is
 * checked by its field rules instead, which hold these and more (`ruleViolations`).
 */
export function requestViolations(value: unknown, path = '', depth = 0): FieldViolation[] {
  if (typeof value === 'string') {
    return forbiddenInText.test(value)
      ? [{ field: path, description: 'control characters and bidirectional overrides are not accepted' }]
      : [];
  }
  if (value instanceof Date) {
    return inTimestampRange(value)
      ? []
      : [{ field: path, description: 'a date between the years 1 and 9999 is needed' }];
  }
  if (depth > 10 || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return [];
  if (Array.isArray(value))
    return value.flatMap((item, index) => requestViolations(item, `${path}[${index}]`, depth + 1));
  return Object.entries(value).flatMap(([key, item]) =>
    requestViolations(item, path ? `${path}.${key}` : key, depth + 1),
  );
}

/** A request whose bytes are no valid message of the method's input type. */
class Undecodable {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
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
    // The numbers are the protocol's own; @passage/errors holds them without grpc-js.
    const code = grpc.status[grpc.status[grpcStatusOf(error.code)] as keyof typeof grpc.status];
    const metadata = new grpc.Metadata();
    if (error.violations.length > 0 || error.reason)
      metadata.set(statusDetailsKey, encodeStatusDetails(code, error.message, error.violations, error.reason));
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
      { reason: decodeReason(serviceError.metadata) },
    );
  }
  return new PassageError('internal', String(error));
}

export interface GrpcServerOptions {
  readonly services: readonly ServiceBinding[];
  /** The FileDescriptorSet from `buf build`, served by reflection. */
  readonly descriptorSet: Buffer;
  readonly log: Logger;
  /** Mutual TLS, or plaintext in development: `grpcTransport(config, log)`. */
  readonly transport: GrpcTransport;
}

/** Where a server listens: its gRPC port, and the plaintext health port for probes when HEALTH_PORT is set. */
export type GrpcListenSettings = Pick<BaseConfig, 'GRPC_HOST' | 'GRPC_PORT'> &
  Partial<Pick<BaseConfig, 'HEALTH_HOST' | 'HEALTH_PORT' | 'METRICS_HOST' | 'METRICS_PORT'>>;

export interface RunningGrpcServer {
  readonly port: number;
  readonly address: string;
  /** The bound port of the HTTP health listener (/livez, /readyz), when HEALTH_PORT is set. */
  readonly healthPort: number | undefined;
  /** The bound port of the Prometheus listener (/metrics), when METRICS_PORT is set. */
  readonly metricsPort: number | undefined;
  /** Marks every service NOT_SERVING, refuses new calls, waits for in-flight ones (up to graceMs). */
  shutdown(graceMs: number): Promise<void>;
  /** Sets the health of the server and every service it serves (no effect once shutting down). */
  setServing(serving: boolean): void;
}

/** What a server will serve, known before it can: the name and the methods of a service. */
export interface ServiceContract {
  readonly name: string;
  readonly definition: grpc.ServiceDefinition;
}

/** A gRPC server listening before its services can serve. */
export interface StartingGrpcServer {
  readonly port: number;
  readonly address: string;
  readonly healthPort: number | undefined;
  readonly metricsPort: number | undefined;
  /** Hands the calls to the services' handlers and turns health to SERVING. */
  serve(services: readonly ServiceBinding[]): RunningGrpcServer;
  /** Stops it, served or not. */
  shutdown(graceMs: number): Promise<void>;
}

const starting = 'the service is starting: it waits for its database and NATS; try again shortly';

/**
 * Opens the port first: while a service waits for Postgres or NATS at start, grpc.health.v1
 * answers NOT_SERVING and every call UNAVAILABLE (which callers retry), instead of the port
 * being closed. `serve` then hands the calls to the handlers and answers SERVING. The port
 * speaks what `transport` says (mutual TLS, or plaintext in development); with HEALTH_PORT
 * set, a plaintext HTTP listener answers /livez and /readyz from the same health status.
 */
export async function openGrpcServer(
  options: {
    readonly contracts: readonly ServiceContract[];
    readonly descriptorSet: Buffer;
    readonly log: Logger;
    readonly transport: GrpcTransport;
  },
  listen: GrpcListenSettings,
): Promise<StartingGrpcServer> {
  const { GRPC_HOST: host, GRPC_PORT: port } = listen;
  const server = new grpc.Server();
  const ready = new Map<string, grpc.UntypedServiceImplementation>();
  for (const contract of options.contracts) {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of Object.keys(contract.definition)) {
      implementation[method] = (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ): void => {
        const handler = ready.get(contract.name)?.[method] as grpc.handleUnaryCall<unknown, unknown> | undefined;
        if (handler) handler(call, callback);
        else {
          // Counted as the handler boundary counts its calls, without a duration: none ran.
          const path = contract.definition[method]!.path.split('/').at(-1) ?? method;
          metrics().add('rpcCalls', { method: `${contract.name}/${path}`, code: 'UNAVAILABLE' });
          callback({ code: grpc.status.UNAVAILABLE, details: starting });
        }
      };
    }
    server.addService(decodingDefinition(contract.definition), implementation);
  }
  const names = options.contracts.map((contract) => contract.name);
  const health = new HealthImplementation({
    '': 'NOT_SERVING',
    ...Object.fromEntries(names.map((name) => [name, 'NOT_SERVING' as const])),
  });
  health.addToServer(server);
  // What grpc.health.v1 answers for the server as a whole, which /readyz answers too.
  let serverStatus: 'SERVING' | 'NOT_SERVING' = 'NOT_SERVING';
  const setStatus = (status: 'SERVING' | 'NOT_SERVING'): void => {
    serverStatus = status;
    health.setStatus('', status);
    for (const name of names) health.setStatus(name, status);
  };
  // The descriptor set holds every Passage proto; reflection lists only what this server serves.
  new ReflectionService(loadFileDescriptorSetFromBuffer(options.descriptorSet), { services: names }).addToServer(
    server,
  );

  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, options.transport.serverCredentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  const address = `${host}:${boundPort}`;
  options.log.info(
    { listen: address, services: names, security: options.transport.security },
    'gRPC server listening; not serving until ready',
  );
  let probes: HealthListener | undefined;
  if (listen.HEALTH_PORT !== undefined) {
    try {
      probes = await listenForProbes(
        listen.HEALTH_HOST ?? host,
        listen.HEALTH_PORT,
        () => serverStatus === 'SERVING',
        options.log,
      );
    } catch (error) {
      server.forceShutdown();
      throw error;
    }
  }
  const healthPort = probes?.port;
  let scrapes: MetricsListener | undefined;
  if (listen.METRICS_PORT !== undefined) {
    try {
      scrapes = await listenForMetrics(
        listen.METRICS_HOST ?? listen.HEALTH_HOST ?? host,
        listen.METRICS_PORT,
        options.log,
      );
    } catch (error) {
      server.forceShutdown();
      await probes?.close();
      throw error;
    }
  }
  const metricsPort = scrapes?.port;
  // The health every alert reads: 1 while SERVING. `passage.consent.v1.ConsentService` → consent.
  const service = names[0]?.split('.')[1] ?? 'unknown';
  const unobserve = metrics().observe(['serving'], (observe) =>
    observe('serving', serverStatus === 'SERVING' ? 1 : 0, { service }),
  );

  let stopping = false;
  const setServing = (serving: boolean): void => {
    if (stopping) return;
    setStatus(serving ? 'SERVING' : 'NOT_SERVING');
  };
  const shutdown = async (graceMs: number): Promise<void> => {
    stopping = true;
    setStatus('NOT_SERVING');
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
    await probes?.close();
    await scrapes?.close();
    unobserve();
  };
  return {
    port: boundPort,
    address,
    healthPort,
    metricsPort,
    shutdown,
    serve(services: readonly ServiceBinding[]): RunningGrpcServer {
      for (const service of services) {
        if (!names.includes(service.name)) throw new Error(`${service.name} was not announced when the server opened`);
        ready.set(service.name, service.implementation);
      }
      setServing(true);
      options.log.info({ listen: address }, 'gRPC server serving');
      return { port: boundPort, address, healthPort, metricsPort, setServing, shutdown };
    },
  };
}

/** A gRPC server with grpc.health.v1 and server reflection (grpcurl needs no .proto files), serving at once. */
export async function startGrpcServer(
  options: GrpcServerOptions,
  listen: GrpcListenSettings,
): Promise<RunningGrpcServer> {
  const opened = await openGrpcServer({ ...options, contracts: options.services }, listen);
  return opened.serve(options.services);
}

/** Reads a bearer token from call metadata, or undefined. */
export function bearerToken(metadata: grpc.Metadata): string | undefined {
  const [value] = metadata.get('authorization');
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value);
  return match?.[1];
}
