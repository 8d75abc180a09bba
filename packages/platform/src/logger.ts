import { pino, type Logger } from 'pino';
import { activeTraceFields } from './tracing.ts';

export type { Logger };

/**
 * Field names that may carry personal data. Whatever path they appear under in a log
 * object, pino replaces the value, so a careless `log.info({ packet })` cannot leak a
 * victim's name or number. Logs carry ids, never content.
 */
export const personalDataFields = [
  'name',
  'firstName',
  'lastName',
  'fullName',
  'givenName',
  'familyName',
  'dateOfBirth',
  'dob',
  'phone',
  'email',
  'address',
  'street',
  'postalCode',
  'location',
  'packet',
  'narrative',
  'story',
  'notes',
  'note',
  'safeContact',
  'health',
  'immigration',
  'dependants',
  'authorization',
  'token',
  'password',
];

const redactPaths = personalDataFields.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      // No pino `name`: "name" is on the redaction list, and the service is in `base`.
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service },
      // trace_id and span_id on every line written inside a span (ADR 32); none outside.
      mixin: activeTraceFields,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
