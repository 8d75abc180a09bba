import { useState, type ReactNode } from 'react';
import { useGet, useLiveFeed, useNow } from '../api/hooks.ts';
import { referrals, type State } from '../api/generated.ts';
import { useI18n } from '../i18n/context.tsx';
import { feedStateLabel } from '../i18n/labels.ts';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { SelectField } from '../ui/fields.tsx';
import { pageSize, ReferralList } from './referral-list.tsx';

const openStates: State[] = ['STATE_SENT', 'STATE_ACKNOWLEDGED', 'STATE_ACCEPTED', 'STATE_IN_CONTACT'];

/** Incoming referrals, urgent first (the service orders them), kept current by the live feed. */
export function Inbox(): ReactNode {
  const { t, l, agencyName } = useI18n();
  const [show, setShow] = useState<'open' | 'all'>('open');
  const inbox = useGet(referrals.listInbox({ pageSize, states: show === 'open' ? openStates : [] }));
  const [announcement, setAnnouncement] = useState('');
  const { connected } = useLiveFeed((event) => {
    if (event.direction !== 'inbound') return;
    inbox.reload();
    setAnnouncement(
      event.type.endsWith('.sent')
        ? t('inbox.arrived', { agency: agencyName(event.fromAgency) })
        : t('inbox.changed', { state: feedStateLabel(l, event.state) }),
    );
  }, inbox.reload);
  const now = useNow();
  return (
    <section>
      <h1 tabIndex={-1}>{t('inbox.title')}</h1>
      <p className={connected ? 'muted live' : 'notice'}>{connected ? t('inbox.live') : t('inbox.offline')}</p>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
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
      {!inbox.data && inbox.loading && <Loading />}
      {inbox.data && (inbox.data.referrals ?? []).length === 0 && <p>{t('inbox.empty')}</p>}
      {inbox.data && <ReferralList referrals={inbox.data.referrals ?? []} side="inbox" now={now} />}
      {inbox.data?.nextCursor && <p className="notice">{t('list.more', { n: pageSize })}</p>}
    </section>
  );
}
