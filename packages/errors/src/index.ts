// The one error type of Passage, with no I/O of its own: domain, application and adapter code
// throw it; the gRPC boundary and the HTTP edge map it, once each, to a status (ADR 24).

/** The closed set of failure kinds every Passage service speaks. */
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

/** One field that failed validation; `field` is a path of JSON names such as `scopes[0].categories`. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export class PassageError extends Error {
  readonly code: ErrorCode;
  readonly violations: readonly FieldViolation[];
  /**
   * A stable code a client can act on beyond the status (e.g. `consent_does_not_cover`), or
   * empty. It travels as google.rpc.ErrorInfo over gRPC and as `reason` in problem details.
   */
  readonly reason: string;

  constructor(
    code: ErrorCode,
    message: string,
    violations: readonly FieldViolation[] = [],
    options?: ErrorOptions & { readonly reason?: string },
  ) {
    super(message, options);
    this.name = 'PassageError';
    this.code = code;
    this.violations = violations;
    this.reason = options?.reason ?? '';
  }

  /** A bad request naming each offending field, so the caller can fix exactly those. */
  static invalid(violations: readonly FieldViolation[]): PassageError {
    const message = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
    return new PassageError('invalid_argument', message, violations);
  }

  /**
   * Anything thrown, as a PassageError: itself, or `internal` keeping the original as the
   * cause (for the log; never shown to a caller).
   */
  static from(thrown: unknown): PassageError {
    if (thrown instanceof PassageError) return thrown;
    return new PassageError('internal', thrown instanceof Error ? thrown.message : String(thrown), [], {
      cause: thrown,
    });
  }
}

export function isPassageError(error: unknown): error is PassageError {
  return error instanceof PassageError;
}

/** gRPC status codes (the numbers are the protocol's own). */
const grpcCodeByCode: Record<ErrorCode, number> = {
  invalid_argument: 3,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  unauthenticated: 16,
  failed_precondition: 9,
  aborted: 10,
  resource_exhausted: 8,
  unavailable: 14,
  internal: 13,
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

export function grpcCodeOf(code: ErrorCode): number {
  return grpcCodeByCode[code];
}

export function httpStatusOf(code: ErrorCode): number {
  return httpStatusByCode[code];
}

const codeByGrpc = new Map<number, ErrorCode>(
  Object.entries(grpcCodeByCode).map(([code, grpc]) => [grpc, code as ErrorCode]),
);

/** The inverse mapping, for clients turning a gRPC failure back into a PassageError. */
export function errorCodeOfGrpcStatus(grpcStatus: number): ErrorCode {
  return codeByGrpc.get(grpcStatus) ?? 'internal';
}

/** A violation's field as a JSON pointer into the request body: `scopes[0].categories` → `/scopes/0/categories`. */
export function jsonPointer(field: string): string {
  return `/${field
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((part) => part !== '')
    .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
    .join('/')}`;
}
