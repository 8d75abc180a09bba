import { errorCodes, httpStatusOf, jsonPointer, type ErrorCode, type FieldViolation } from '@passage/errors';

/** RFC 9457 problem details: what went wrong, in words a person can act on. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  /** A stable code to act on beyond the status (e.g. `consent_does_not_cover`, `locked`), when there is one. */
  readonly reason?: string;
  readonly violations?: readonly FieldViolation[];
  /** Each violation with where it is: a JSON pointer into the body, or a parameter or header name. */
  readonly errors?: readonly ProblemError[];
}

export interface ProblemError {
  readonly detail: string;
  readonly pointer?: string;
  readonly parameter?: string;
  readonly header?: string;
}

/** Where a violation is, from the edge's name for it (`body.scopes[0]`, `querystring.since`, `params.id`). */
function located(violation: FieldViolation): ProblemError {
  const { field, description: detail } = violation;
  if (field === 'body') return { detail, pointer: '' };
  if (field.startsWith('body.')) return { detail, pointer: jsonPointer(field.slice('body.'.length)) };
  if (field.startsWith('querystring.')) return { detail, parameter: field.slice('querystring.'.length) };
  if (field.startsWith('params.')) return { detail, parameter: field.slice('params.'.length) };
  if (field.startsWith('headers.')) return { detail, header: field.slice('headers.'.length) };
  if (/^[A-Z][A-Za-z-]*$/.test(field)) return { detail, header: field };
  return { detail, pointer: jsonPointer(field) };
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

export function problem(code: ErrorCode, detail: string, violations?: readonly FieldViolation[], reason = ''): Problem {
  return {
    type: `urn:passage:problem:${code}`,
    title: titles[code],
    status: httpStatusOf(code),
    detail,
    code,
    ...(reason ? { reason } : {}),
    ...(violations && violations.length > 0 ? { violations, errors: violations.map(located) } : {}),
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
    reason: { type: 'string', description: 'a stable code to act on beyond the status, e.g. consent_does_not_cover' },
    violations: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, description: { type: 'string' } } },
    },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          detail: { type: 'string' },
          pointer: { type: 'string', description: 'RFC 6901 JSON pointer into the request body' },
          parameter: { type: 'string' },
          header: { type: 'string' },
        },
      },
    },
  },
} as const;
