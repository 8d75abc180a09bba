import type { ReactNode } from 'react';
import type { Referral } from '../api/generated.ts';
import { Link } from '../app/router.tsx';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { dateTime } from '../i18n/format.ts';
import { label } from '../i18n/labels.ts';
import { Countdown, PriorityBadge, StateBadge } from '../ui/badges.tsx';

/** The most the API gives in one page; more than that open at once is a backlog to act on, not to scroll. */
export const pageSize = 200;

/** Referrals as a list of cards: one per referral, readable at 390 px and at 1280 px. */
export function ReferralList(props: {
  referrals: readonly Referral[];
  side: 'inbox' | 'outbox';
  now: number;
  extra?: (referral: Referral) => ReactNode;
}): ReactNode {
  const { t, l, language, agencyName, pair } = useI18n();
  const { user } = useSession();
  return (
    <ul className="referrals">
      {props.referrals.map((referral) => {
        const other = props.side === 'inbox' ? referral.fromAgency : referral.toAgency;
        return (
          <li key={referral.id} className={referral.priority === 'PRIORITY_URGENT' ? 'referral urgent' : 'referral'}>
            <div className="referral-head">
              <PriorityBadge priority={referral.priority} />
              <StateBadge state={referral.state} />
              {referral.doNotContact && <span className="badge dnc">{t('consent.doNotContact')}</span>}
            </div>
            <p className="referral-title">
              <Link to={`/referrals/${referral.id}`}>
                {t(props.side === 'inbox' ? 'col.from' : 'col.to')} {agencyName(other)}
              </Link>
            </p>
            <p>{pair(t('col.needs'), (referral.needs ?? []).map((n) => label(l.need, n)).join(', '))}</p>
            <p className="muted">{pair(t('col.sent'), dateTime(referral.sentAt, language))}</p>
            {referral.takenOverBy && (
              <p className="takeover-mark">
                {referral.takenOverBy === user.agencyId
                  ? t('takeover.listFrom', { agency: agencyName(referral.toAgency) })
                  : t('takeover.listBy', { agency: agencyName(referral.takenOverBy) })}
              </p>
            )}
            {props.side === 'inbox' && (
              <p>
                <Countdown referral={referral} now={props.now} />
              </p>
            )}
            {props.extra?.(referral)}
          </li>
        );
      })}
    </ul>
  );
}
