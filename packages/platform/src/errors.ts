import { grpcCodeOf, type ErrorCode } from '@passage/errors';

export {
  PassageError,
  errorCodeOfGrpcStatus,
  errorCodes,
  httpStatusOf,
  isPassageError,
  jsonPointer,
  type ErrorCode,
  type FieldViolation,
} from '@passage/errors';

/** The gRPC status of a failure kind. */
export function grpcStatusOf(code: ErrorCode): number {
  return grpcCodeOf(code);
}

// Postgres SQLSTATEs of a server going away or not yet taking connections, and socket errors.
const transientCodes = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up or shutting down)
  '53300', // too_many_connections
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);
const transientMessages = [
  /connection terminated/i,
  /connection timeout/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
  /client was closed and is not queryable/i,
  /cannot use a pool after calling end/i,
];

/**
 * Whether a failure is a dependency going away (Postgres restarting, a terminated connection,
 * a refused socket) rather than a bug: worth UNAVAILABLE and a retry, not INTERNAL.
 */
export function isTransientDependencyError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message, name } = current as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && (transientCodes.has(code) || code.startsWith('08'))) return true;
    if (name === 'ConnectionException') return true;
    if (typeof message === 'string' && transientMessages.some((pattern) => pattern.test(message))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
