import { useState, type ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import { useLiveFeed, useNow, useSubmission } from '../api/hooks.ts';
import { referrals, type Referral } from '../api/generated.ts';
import { Link, navigate } from '../app/router.tsx';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { label } from '../i18n/labels.ts';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { AmendConsentForResend, consentDoesNotCover } from './AmendConsent.tsx';
import { usePagedReferrals } from './lists-model.ts';
import { LoadMore, pageSize, ReferralList } from './referral-list.tsx';

/**
 * What this agency sent and where each stands, declined ones not yet resent first (the person
 * is waiting for another agency); a declined one can go on to the suggested agency.
 */
export function Outbox(): ReactNode {
  const { t } = useI18n();
  const { user } = useSession();
  const outbox = usePagedReferrals((cursor) => referrals.listOutbox({ pageSize, cursor }));
  useLiveFeed((event) => {
    if (event.direction === 'outbound') outbox.reload();
  }, outbox.reload);
  const now = useNow();
  return (
    <section>
      <h1 tabIndex={-1}>{t('outbox.title')}</h1>
      {outbox.error && <ErrorNotice error={outbox.error} onRetry={outbox.reload} />}
      {!outbox.referrals && outbox.loading && <Loading />}
      {outbox.referrals && outbox.referrals.length === 0 && <p>{t('outbox.empty')}</p>}
      {outbox.referrals && (
        <ReferralList
          referrals={outbox.referrals}
          side="outbox"
          agencyId={user.agencyId}
          now={now}
          extra={(referral) => <DeclineFollowUp referral={referral} />}
        />
      )}
      <LoadMore hasMore={outbox.hasMore} busy={outbox.loadingMore} onMore={() => void outbox.loadMore()} />
    </section>
  );
}

/**
 * A declined referral's follow-up: resend to the suggested agency. When the person's consent
 * does not cover that agency (reason consent_does_not_cover, ADR 36), the referral's page offers
 * to amend the consent with the person right there (`inline`); a list links to that page.
 */
export function DeclineFollowUp({
  referral,
  inline = false,
  consentIds = [],
  onAmended,
}: {
  referral: Referral;
  inline?: boolean;
  consentIds?: readonly string[];
  onAmended?: () => void;
}): ReactNode {
  const { t, l, agencyName, pair } = useI18n();
  const { busy, error, submit } = useSubmission();
  const [notCovered, setNotCovered] = useState(false);
  if (referral.state !== 'STATE_DECLINED') return null;
  const resend = () =>
    submit(
      async () => {
        const { referral: next } = await referrals.resend({
          referralId: referral.id,
          toAgency: referral.suggestedAgency,
        });
        if (next) navigate(`/referrals/${next.id}`);
      },
      (failure) => setNotCovered(failure instanceof ApiError && failure.reason === consentDoesNotCover),
    );
  const agency = agencyName(referral.suggestedAgency);
  return (
    <div className="decline">
      <p>{pair(t('col.reason'), label(l.declineReason, referral.reason))}</p>
      {referral.suggestedAgency && (
        <>
          <p>{t('outbox.suggested', { agency })}</p>
          {!(notCovered && inline) && (
            <button type="button" onClick={() => void resend()} disabled={busy}>
              {t('action.resendTo', { agency })}
            </button>
          )}
        </>
      )}
      {notCovered && inline ? (
        <AmendConsentForResend
          referral={referral}
          toAgency={referral.suggestedAgency}
          consentIds={consentIds}
          resending={busy}
          onResend={() => void resend()}
          {...(onAmended ? { onAmended } : {})}
        />
      ) : notCovered ? (
        <div className="notice" role="alert">
          <p>{t('amend.notCovered', { agency })}</p>
          <Link to={`/referrals/${referral.id}`} className="button">
            {t('amend.open')}
          </Link>
        </div>
      ) : (
        error !== undefined && <ErrorNotice error={error} />
      )}
      {notCovered &&
        inline &&
        error !== undefined &&
        !(error instanceof ApiError && error.reason === consentDoesNotCover) && <ErrorNotice error={error} />}
    </div>
  );
}
