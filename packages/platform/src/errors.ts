import { status } from '@grpc/grpc-js';

/**
 * The closed set of failure kinds every Passage service speaks. Domain code throws
 * PassageError with one of these; adapters map it once, here, to gRPC and HTTP.
 */
export const errorCodes = [
  'invalid_argument',
  'not_found',
  'already_exists',
  'permission_denied',
  'unauthenticated',
  'failed_precondition',
  'aborted',
  'resource_exhausted',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** One field that failed validation; `field` is a dotted path such as `needs[2]`. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export class PassageError extends Error {
  readonly code: ErrorCode;
  readonly violations: readonly FieldViolation[];

  constructor(code: ErrorCode, message: string, violations: readonly FieldViolation[] = []) {
    super(message);
    this.name = 'PassageError';
    this.code = code;
    this.violations = violations;
  }

  /** A bad request naming each offending field, so the caller can fix exactly those. */
  static invalid(violations: readonly FieldViolation[]): PassageError {
    const message = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
    return new PassageError('invalid_argument', message, violations);
  }
}

export function isPassageError(error: unknown): error is PassageError {
  return error instanceof PassageError;
}

const grpcStatusByCode: Record<ErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  failed_precondition: status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

const httpStatusByCode: Record<ErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 401,
  failed_precondition: 409,
  aborted: 409,
  resource_exhausted: 429,
  unavailable: 503,
  internal: 500,
};

export function grpcStatusOf(code: ErrorCode): status {
  return grpcStatusByCode[code];
}

export function httpStatusOf(code: ErrorCode): number {
  return httpStatusByCode[code];
}

const codeByGrpcStatus = new Map<number, ErrorCode>(
  Object.entries(grpcStatusByCode).map(([code, grpc]) => [grpc, code as ErrorCode]),
);

/** The inverse mapping, for clients turning a gRPC failure back into a PassageError. */
export function errorCodeOfGrpcStatus(grpcStatus: number): ErrorCode {
  return codeByGrpcStatus.get(grpcStatus) ?? 'internal';
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
