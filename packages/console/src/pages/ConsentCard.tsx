import { useState, type ReactNode } from 'react';
import { consent } from '../api/generated.ts';
import { useGet, useSubmission } from '../api/hooks.ts';
import { useI18n } from '../i18n/context.tsx';
import { date } from '../i18n/format.ts';
import { label } from '../i18n/labels.ts';
import { ErrorNotice } from '../ui/feedback.tsx';

/**
 * The person's consents as the agency that recorded them sees them, and the way to record
 * that the person takes one back: every scope at once, effective on the next read; open
 * referrals that relied on it are withdrawn by the network (the page follows on the feed).
 */
export function ConsentCard({ subjectRef, onRevoked }: { subjectRef: string; onRevoked: () => void }): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const history = useGet(consent.history({ subjectRef }));
  const [confirming, setConfirming] = useState('');
  const [done, setDone] = useState('');
  const { busy, error, submit } = useSubmission();
  // Another agency's consents are not ours to show: the service refuses, and the card stays away.
  if (history.error?.status === 403 || !history.data) return null;

  const revoke = (consentId: string) =>
    submit(async () => {
      await consent.revoke({ consentId, all: true, reason: 'person_asked' });
      setDone(t('consentCard.revoked'));
      setConfirming('');
      history.reload();
      onRevoked();
    });

  return (
    <div className="card">
      <h2>{t('consentCard.title')}</h2>
      <div role="status" aria-live="polite">
        {done && <p className="notice notice-ok">{done}</p>}
      </div>
      {(history.data.consents ?? []).map((consent) => (
        <div key={consent.id} className="consent">
          <p>
            {t('consentCard.given', {
              granted: date(consent.grantedAt, language),
              expires: date(consent.expiresAt, language),
            })}
            {consent.revokedAt ? ` — ${t('consentCard.withdrawnOn', { date: date(consent.revokedAt, language) })}` : ''}
          </p>
          <ul>
            {(consent.scopes ?? []).map((scope) => (
              <li key={scope.id} className={scope.revokedAt ? 'muted' : ''}>
                {[
                  ...(scope.recipientAgencyIds ?? []).map((id) => agencyName(id)),
                  // A scope may name a kind of agency rather than agencies ("any coalition").
                  ...(scope.recipientKinds ?? []).map((kind) =>
                    t('consentCard.anyKind', { kind: label(l.kind, kind).toLowerCase() }),
                  ),
                ].join(', ')}
                : {(scope.categories ?? []).map((c) => label(l.category, c).toLowerCase()).join(', ')} (
                {(scope.purposes ?? []).map((p) => label(l.purpose, p).toLowerCase()).join(', ')})
                {scope.doNotContact ? ` — ${t('consent.doNotContact').toLowerCase()}` : ''}
                {scope.addedAt ? ` — ${t('amend.added', { date: date(scope.addedAt, language) })}` : ''}
                {scope.revokedAt ? ` — ${t('consentCard.scopeWithdrawn')}` : ''}
              </li>
            ))}
          </ul>
          {!consent.revokedAt &&
            (confirming === consent.id ? (
              <div className="notice" role="group" aria-label={t('consentCard.confirmTitle')}>
                <p>{t('consentCard.confirm')}</p>
                <div className="actions">
                  <button type="button" onClick={() => setConfirming('')}>
                    {t('common.cancel')}
                  </button>
                  <button type="button" className="primary" disabled={busy} onClick={() => void revoke(consent.id)}>
                    {t('consentCard.confirmYes')}
                  </button>
                </div>
              </div>
            ) : (
              <button type="button" onClick={() => setConfirming(consent.id)}>
                {t('consentCard.withdraw')}
              </button>
            ))}
        </div>
      ))}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}
