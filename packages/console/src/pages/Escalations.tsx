import { useEffect, useState, type ReactNode } from 'react';
import { useGet, useLiveFeed, useSubmission } from '../api/hooks.ts';
import { escalation, referrals, type EscalationItem } from '../api/generated.ts';
import { Link, navigate } from '../app/router.tsx';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { dateTime, matchReason } from '../i18n/format.ts';
import { label } from '../i18n/labels.ts';
import { PriorityBadge } from '../ui/badges.tsx';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';

/**
 * The crisis line takes up another agency's referral only where the person's consent covers
 * it; the sender and the receiving agency's supervisors are parties to it and may open it.
 */
const readable = (item: EscalationItem): boolean => item.audience !== 'crisis_line' || item.consentCoversReader;

/** Hand-offs that missed a target, for the crisis line, the sender and the supervisors to take up. */
export function Escalations(): ReactNode {
  const { t, l, language, agencyName, pair } = useI18n();
  const list = useGet(escalation.listEscalations({}));
  useLiveFeed((event) => {
    if (event.type.endsWith('.escalated')) list.reload();
  }, list.reload);
  // The crisis line is not a party to the referrals it takes up (until it takes one over), so
  // its feed does not carry them: the list is also asked for again every 15 seconds.
  const { reload } = list;
  useEffect(() => {
    const timer = setInterval(reload, 15_000);
    return () => clearInterval(timer);
  }, [reload]);
  const items = list.data?.items ?? [];
  return (
    <section>
      <h1 tabIndex={-1}>{t('escalations.title')}</h1>
      {list.error && <ErrorNotice error={list.error} onRetry={list.reload} />}
      {!list.data && list.loading && <Loading />}
      {list.data && items.length === 0 && <p>{t('escalations.empty')}</p>}
      <ul className="referrals">
        {items.map((item) => (
          <li key={item.id} className="referral urgent">
            <div className="referral-head">
              <PriorityBadge priority={item.priority === 'urgent' ? 'PRIORITY_URGENT' : 'PRIORITY_STANDARD'} />
              <span className="badge state-declined">{label(l.missedTarget, item.missedTarget)}</span>
            </div>
            <p className="referral-title">
              {readable(item) && item.referralId ? (
                <Link to={`/referrals/${item.referralId}`}>
                  {agencyName(item.fromAgency)} → {agencyName(item.toAgency)}
                </Link>
              ) : (
                `${agencyName(item.fromAgency)} → ${agencyName(item.toAgency)}`
              )}
            </p>
            <p className="muted">{pair(t('escalations.missed'), dateTime(item.dueAt, language))}</p>
            {item.audience === 'crisis_line' && (
              <p>{item.consentCoversReader ? t('escalations.covered') : t('escalations.notCovered')}</p>
            )}
            {item.audience === 'crisis_line' && item.consentCoversReader && item.referralId && (
              <TakeOver referralId={item.referralId} toAgency={item.toAgency} />
            )}
            {(item.candidates ?? []).length > 0 && (
              <>
                <p>{pair(t('escalations.suggestions'))}</p>
                <ul>
                  {(item.candidates ?? []).map((c) => (
                    <li key={c.agencyId}>
                      {language === 'fr' ? c.nameFr : c.nameEn} —{' '}
                      {(c.reasons ?? []).map((r) => matchReason(r, language)).join(' · ')}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The crisis line takes the referral over from here (after a confirmation), then works it on its page. */
function TakeOver({ referralId, toAgency }: { referralId: string; toAgency: string }): ReactNode {
  const { t, agencyName } = useI18n();
  const { user } = useSession();
  const [confirming, setConfirming] = useState(false);
  const { busy, error, submit } = useSubmission();
  if (!user.roles.some((role) => role === 'crisis_counsellor' || role === 'supervisor')) return null;
  return (
    <div className="takeover">
      <button type="button" aria-expanded={confirming} disabled={busy} onClick={() => setConfirming(!confirming)}>
        {t('takeover.action')}
      </button>
      {confirming && (
        <form
          className="subform"
          onSubmit={(event) => {
            event.preventDefault();
            void submit(async () => {
              await referrals.takeOver({ referralId });
              navigate(`/referrals/${referralId}`);
            });
          }}
        >
          <p>{t('takeover.confirm', { agency: agencyName(toAgency) })}</p>
          <button type="submit" className="primary" disabled={busy}>
            {t('takeover.confirmSubmit')}
          </button>
        </form>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}
