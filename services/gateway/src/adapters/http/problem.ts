import { errorCodes, httpStatusOf, type ErrorCode, type FieldViolation } from '@passage/platform';

/** RFC 9457 problem details: what went wrong, in words a person can act on. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly violations?: readonly FieldViolation[];
}

const titles: Record<ErrorCode, string> = {
  invalid_argument: 'The request is not valid',
  not_found: 'Not found',
  already_exists: 'Already exists',
  permission_denied: 'Not allowed',
  unauthenticated: 'Sign in first',
  failed_precondition: 'Not possible in the current state',
  aborted: 'Changed meanwhile: reload and try again',
  resource_exhausted: 'Too many requests',
  unavailable: 'A service is not answering: try again shortly',
  internal: 'Something went wrong on our side',
};

export function problem(code: ErrorCode, detail: string, violations?: readonly FieldViolation[]): Problem {
  return {
    type: `urn:passage:problem:${code}`,
    title: titles[code],
    status: httpStatusOf(code),
    detail,
    code,
    ...(violations && violations.length > 0 ? { violations } : {}),
  };
}

export const problemSchema = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', enum: [...errorCodes] },
    violations: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, description: { type: 'string' } } },
    },
  },
} as const;
