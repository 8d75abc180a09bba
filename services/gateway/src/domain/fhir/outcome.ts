import { httpStatusOf, type ErrorCode, type PassageError } from '@passage/errors';
import { passageSystems, type IssueType, type OperationOutcome } from './resources.ts';

/**
 * The one error type (@passage/errors) as a FHIR OperationOutcome, mapped once
 * (docs/adr/0044-fhir-r4-export.md): the status is the one problem+json has, the issue code
 * FHIR's nearest, the details the Passage code, each violation an issue whose expression names
 * the parameter or header. Pure.
 */

const issueTypes: Record<ErrorCode, IssueType> = {
  invalid_argument: 'invalid',
  not_found: 'not-found',
  already_exists: 'duplicate',
  permission_denied: 'forbidden',
  unauthenticated: 'login',
  failed_precondition: 'business-rule',
  aborted: 'conflict',
  resource_exhausted: 'throttled',
  unavailable: 'transient',
  internal: 'exception',
};

/** The HTTP status and the OperationOutcome of an error. */
export function operationOutcome(error: PassageError): { status: number; outcome: OperationOutcome } {
  // What the API does not offer (a type, a parameter, a format): FHIR's not-supported.
  const unsupported = error.reason === 'not_supported' || error.reason === 'not_acceptable';
  const code: IssueType = unsupported ? 'not-supported' : issueTypes[error.code];
  const details = { coding: [{ system: passageSystems.errorCode, code: error.code }] };
  const issues =
    error.violations.length > 0
      ? error.violations.map((v) => ({
          severity: 'error' as const,
          code,
          details,
          diagnostics: v.description,
          expression: [v.field],
        }))
      : [{ severity: 'error' as const, code, details, diagnostics: error.message }];
  return {
    status: error.reason === 'not_acceptable' ? 406 : httpStatusOf(error.code),
    outcome: { resourceType: 'OperationOutcome', issue: issues },
  };
}
