import type { ReactNode } from 'react';
import { useLiveFeed, useNow, useSubmission } from '../api/hooks.ts';
import { referrals, type Referral } from '../api/generated.ts';
import { navigate } from '../app/router.tsx';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { label } from '../i18n/labels.ts';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
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

export function DeclineFollowUp({ referral }: { referral: Referral }): ReactNode {
  const { t, l, agencyName, pair } = useI18n();
  const { busy, error, submit } = useSubmission();
  if (referral.state !== 'STATE_DECLINED') return null;
  const resend = () =>
    submit(async () => {
      const { referral: next } = await referrals.resend({
        referralId: referral.id,
        toAgency: referral.suggestedAgency,
      });
      if (next) navigate(`/referrals/${next.id}`);
    });
  return (
    <div className="decline">
      <p>{pair(t('col.reason'), label(l.declineReason, referral.reason))}</p>
      {referral.suggestedAgency && (
        <>
          <p>{t('outbox.suggested', { agency: agencyName(referral.suggestedAgency) })}</p>
          <button type="button" onClick={() => void resend()} disabled={busy}>
            {t('action.resendTo', { agency: agencyName(referral.suggestedAgency) })}
          </button>
        </>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}
