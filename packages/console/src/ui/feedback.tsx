import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import type { MessageKey } from '../i18n/messages.ts';
import { useI18n } from '../i18n/context.tsx';
import { violationText } from './field-problems.tsx';

const known = new Set([
  'unauthenticated',
  'permission_denied',
  'not_found',
  'invalid_argument',
  'failed_precondition',
  'aborted',
  'already_exists',
  'resource_exhausted',
  'unavailable',
  'internal',
]);

/**
 * A failed request in words a person can act on, in their language. The server's own
 * detail is in English, so French readers get the translated summary and the field names.
 */
export function ErrorNotice({
  error,
  onRetry,
  fieldsShown,
}: {
  error: unknown;
  onRetry?: () => void;
  /** Every field the request names is marked beside its input: no list of field names here. */
  fieldsShown?: boolean;
}): ReactNode {
  const { t, language } = useI18n();
  const apiError = error instanceof ApiError ? error : undefined;
  // A refusal that names fields marked beside their inputs (a wrong current password, a role
  // above one's own) is about those fields, whatever its status.
  const aboutFields = fieldsShown === true && apiError !== undefined && apiError.errors.some((e) => e.pointer);
  const code = aboutFields ? 'invalid_argument' : apiError && known.has(apiError.code) ? apiError.code : 'unknown';
  return (
    <div className="notice notice-error" role="alert">
      <p>{t(`error.${code}` as MessageKey)}</p>
      {apiError && apiError.violations.length > 0 && !aboutFields && (
        <>
          <p>{t('common.fieldProblems')}</p>
          <ul>
            {apiError.violations.map((v) => (
              <li key={v.field}>
                <code>{v.field}</code>: {violationText(v.description, language)}
              </li>
            ))}
          </ul>
        </>
      )}
      {apiError && language === 'en' && apiError.violations.length === 0 && code !== 'internal' && (
        <p className="muted">{t('error.detail', { detail: apiError.message })}</p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

export function Loading(): ReactNode {
  const { t } = useI18n();
  return (
    <p className="muted" role="status">
      {t('common.loading')}
    </p>
  );
}

export function Success({ children }: { children: ReactNode }): ReactNode {
  return (
    <div className="notice notice-ok" role="status">
      {children}
    </div>
  );
}
