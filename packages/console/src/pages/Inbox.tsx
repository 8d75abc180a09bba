import { useEffect, useState, type ReactNode } from 'react';
import { useGet, useLiveFeed, useNow, useSubmission } from '../api/hooks.ts';
import { referrals, type Referral, type State } from '../api/generated.ts';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { feedStateLabel } from '../i18n/labels.ts';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { SelectField } from '../ui/fields.tsx';
import { useColleagues, usePagedReferrals } from './lists-model.ts';
import { LoadMore, pageSize, ReferralList } from './referral-list.tsx';

const openStates: State[] = ['STATE_SENT', 'STATE_ACKNOWLEDGED', 'STATE_ACCEPTED', 'STATE_IN_CONTACT'];
type Tab = 'mine' | 'team';

/**
 * Incoming referrals, "needs your action" first (the service orders them), kept current by the
 * live feed: the referrals assigned to me, or the whole team's; supervisors see the caseload.
 */
export function Inbox(): ReactNode {
  const { t, l, agencyName } = useI18n();
  const { user } = useSession();
  const supervisor = user.roles.includes('supervisor');
  const [show, setShow] = useState<'open' | 'all'>('open');
  const [tab, setTab] = useState<Tab>('team');
  const { nameOf } = useColleagues();
  const inbox = usePagedReferrals((cursor) =>
    referrals.listInbox({
      pageSize,
      states: show === 'open' ? openStates : [],
      assignedTo: tab === 'mine' ? 'me' : '',
      cursor,
    }),
  );
  const [caseloadGeneration, setCaseloadGeneration] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  const changed = () => {
    inbox.reload();
    setCaseloadGeneration((n) => n + 1);
  };
  const { connected } = useLiveFeed((event) => {
    if (event.direction !== 'inbound') return;
    changed();
    setAnnouncement(
      event.type.endsWith('.sent')
        ? t('inbox.arrived', { agency: agencyName(event.fromAgency) })
        : t('inbox.changed', { state: feedStateLabel(l, event.state) }),
    );
  }, inbox.reload);
  const now = useNow();
  const list = inbox.referrals ?? [];
  return (
    <section>
      <h1 tabIndex={-1}>{t('inbox.title')}</h1>
      <p className={connected ? 'muted live' : 'notice'}>{connected ? t('inbox.live') : t('inbox.offline')}</p>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {supervisor && <Caseload generation={caseloadGeneration} nameOf={nameOf} />}
      <div className="tabs" role="group" aria-label={t('lists.whose')}>
        {(['mine', 'team'] as const).map((which) => (
          <button
            key={which}
            type="button"
            className={tab === which ? 'tab current' : 'tab'}
            aria-pressed={tab === which}
            onClick={() => setTab(which)}
          >
            {t(which === 'mine' ? 'lists.mine' : 'lists.team')}
          </button>
        ))}
      </div>
      <div className="row">
        <SelectField<'open' | 'all'>
          label={t('inbox.show')}
          value={show}
          onChange={setShow}
          options={[
            { value: 'open', label: t('inbox.showOpen') },
            { value: 'all', label: t('inbox.showAll') },
          ]}
        />
      </div>
      {inbox.error && <ErrorNotice error={inbox.error} onRetry={inbox.reload} />}
      {!inbox.referrals && inbox.loading && <Loading />}
      {inbox.referrals && list.length === 0 && <p>{tab === 'mine' ? t('lists.mineEmpty') : t('inbox.empty')}</p>}
      {inbox.referrals && (
        <ReferralList
          referrals={list}
          side="inbox"
          agencyId={user.agencyId}
          now={now}
          nameOf={nameOf}
          extra={(referral) => <ClaimButton referral={referral} onClaimed={changed} />}
        />
      )}
      <LoadMore hasMore={inbox.hasMore} busy={inbox.loadingMore} onMore={() => void inbox.loadMore()} />
    </section>
  );
}

/** Take an open referral nobody has: it becomes mine. */
function ClaimButton({ referral, onClaimed }: { referral: Referral; onClaimed: () => void }): ReactNode {
  const { t } = useI18n();
  const { user } = useSession();
  const { busy, error, submit } = useSubmission();
  const open = openStates.includes(referral.state);
  if (!open || referral.assignedUser || referral.toAgency !== user.agencyId) return null;
  return (
    <div>
      <button
        type="button"
        className="primary"
        disabled={busy}
        aria-label={t('lists.claimReference', { reference: referral.reference })}
        onClick={() =>
          void submit(async () => {
            await referrals.assign({
              referralId: referral.id,
              assignedUser: user.userId,
              expectedVersion: referral.version,
            });
            onClaimed();
          })
        }
      >
        {t('lists.claim')}
      </button>
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}

/** For supervisors: open referrals per worker of the agency, and those nobody has. */
function Caseload(props: { generation: number; nameOf: (userId: string) => string | undefined }): ReactNode {
  const { t } = useI18n();
  const load = useGet(referrals.caseload({ agency: '' }));
  const { reload } = load;
  useEffect(() => {
    if (props.generation > 0) reload();
  }, [props.generation, reload]);
  const workloads = load.data?.workloads ?? [];
  return (
    <div className="card caseload">
      <h2>{t('lists.caseload')}</h2>
      {load.error && <ErrorNotice error={load.error} onRetry={load.reload} />}
      {load.data && (
        <table>
          <caption className="visually-hidden">{t('lists.caseload')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('lists.worker')}</th>
              <th scope="col">{t('lists.open')}</th>
              <th scope="col">{t('lists.needsAction')}</th>
              <th scope="col">{t('status.urgent')}</th>
            </tr>
          </thead>
          <tbody>
            {workloads.map((w) => (
              <tr key={w.userId}>
                <th scope="row">{props.nameOf(w.userId) ?? w.userId}</th>
                <td>{w.open}</td>
                <td>{w.needsAction}</td>
                <td>{w.urgent}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">{t('lists.unassigned')}</th>
              <td>{load.data.unassigned ?? 0}</td>
              <td />
              <td />
            </tr>
          </tbody>
        </table>
      )}
    </div>
  );
}
