import type { ReactNode } from 'react';
import type { Referral } from '../api/generated.ts';
import { Link } from '../app/router.tsx';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { dateTime } from '../i18n/format.ts';
import { label } from '../i18n/labels.ts';
import { Countdown, PriorityBadge, StateBadge } from '../ui/badges.tsx';

/** The most the API gives in one page; "Load more" asks for the next. */
export const pageSize = 200;

/**
 * Referrals as a list of cards: one per referral, readable at 390 px and at 1280 px, each
 * with its short reference. `agencyId`: whose point of view (a search lists both sides).
 */
export function ReferralList(props: {
  referrals: readonly Referral[];
  side: 'inbox' | 'outbox' | 'search';
  agencyId: string;
  now: number;
  /** A colleague's name for a user id (useColleagues); the id when unknown. */
  nameOf?: (userId: string) => string | undefined;
  extra?: (referral: Referral) => ReactNode;
}): ReactNode {
  const { t, l, language, agencyName, pair } = useI18n();
  const { user } = useSession();
  return (
    <ul className="referrals">
      {props.referrals.map((referral) => {
        const received =
          props.side === 'inbox' ||
          (props.side === 'search' &&
            (referral.toAgency === props.agencyId || referral.takenOverBy === props.agencyId));
        const other = received ? referral.fromAgency : referral.toAgency;
        const assignee = referral.assignedUser ? (props.nameOf?.(referral.assignedUser) ?? referral.assignedUser) : '';
        return (
          <li key={referral.id} className={referral.priority === 'PRIORITY_URGENT' ? 'referral urgent' : 'referral'}>
            <div className="referral-head">
              <PriorityBadge priority={referral.priority} />
              <StateBadge state={referral.state} />
              {referral.escalated && <span className="badge escalated">{t('lists.escalated')}</span>}
              {referral.doNotContact && <span className="badge dnc">{t('consent.doNotContact')}</span>}
            </div>
            <p className="referral-title">
              {referral.reference && <span className="reference">{referral.reference}</span>}{' '}
              <Link to={`/referrals/${referral.id}`}>
                {t(received ? 'col.from' : 'col.to')} {agencyName(other)}
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
            {received && (
              <p className="assignee">{assignee ? pair(t('lists.assignedTo'), assignee) : t('lists.unassigned')}</p>
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

/** "Load more" under a list that has a next page. */
export function LoadMore(props: { hasMore: boolean; busy: boolean; onMore: () => void }): ReactNode {
  const { t } = useI18n();
  if (!props.hasMore) return null;
  return (
    <p>
      <button type="button" onClick={props.onMore} disabled={props.busy}>
        {props.busy ? t('common.loading') : t('lists.loadMore')}
      </button>
    </p>
  );
}
