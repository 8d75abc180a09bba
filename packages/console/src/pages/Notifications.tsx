import { useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import { useGet } from '../api/hooks.ts';
import { identity, type Notification } from '../api/generated.ts';
import { navigate } from '../app/router.tsx';
import { useI18n } from '../i18n/context.tsx';
import { dateTime } from '../i18n/format.ts';
import type { MessageKey } from '../i18n/messages.ts';
import { ErrorNotice, Loading, Success } from '../ui/feedback.tsx';
import { CheckboxGroup } from '../ui/fields.tsx';

/** The kinds of notice, as the gateway names them (ADR 40). */
const kinds = ['urgent_referral', 'escalated', 'declined', 'message'] as const;
type Kind = (typeof kinds)[number];
const kindKey = (kind: string): MessageKey =>
  (kinds as readonly string[]).includes(kind) ? (`notify.kind.${kind as Kind}` as const) : 'notify.kind.other';

/** Tells the header's badge to count again (a notice was read here). */
export const notificationsChanged = (): void => {
  window.dispatchEvent(new Event('passage:notifications'));
};

/**
 * The signed-in person's notices — a kind, a referral's short reference and a time, nothing
 * else — newest first; opening one marks it read and opens the referral. Below, which kinds
 * also come by e-mail.
 */
export function Notifications(): ReactNode {
  const { t, language } = useI18n();
  const list = useGet(identity.listNotifications({ pageSize: 50 }));
  const [error, setError] = useState<ApiError | undefined>();
  const { reload } = list;
  useEffect(() => {
    const timer = setInterval(reload, 15_000);
    return () => clearInterval(timer);
  }, [reload]);
  const items = list.data?.notifications ?? [];
  const unread = items.filter((n) => !n.readAt).length;
  const open = async (notice: Notification) => {
    try {
      if (!notice.readAt)
        await identity.markNotificationsRead({ notificationIds: [notice.notificationId], all: false });
      notificationsChanged();
      navigate(`/referrals/${notice.referralId}`);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : undefined);
    }
  };
  const readAll = async () => {
    try {
      await identity.markNotificationsRead({ notificationIds: [], all: true });
      notificationsChanged();
      reload();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : undefined);
    }
  };
  return (
    <section>
      <h1 tabIndex={-1}>{t('notify.title')}</h1>
      {list.error && <ErrorNotice error={list.error} onRetry={reload} />}
      {error && <ErrorNotice error={error} />}
      {!list.data && list.loading && <Loading />}
      {list.data && items.length === 0 && <p>{t('notify.empty')}</p>}
      {unread > 0 && (
        <p>
          <button type="button" onClick={() => void readAll()}>
            {t('notify.readAll')}
          </button>
        </p>
      )}
      <ul className="notify-list">
        {items.map((notice) => (
          <li key={notice.notificationId} className={notice.readAt ? 'notify-item' : 'notify-item unread'}>
            <a
              href={`/referrals/${notice.referralId}`}
              onClick={(event) => {
                if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
                event.preventDefault();
                void open(notice);
              }}
            >
              {t(kindKey(notice.kind))}
            </a>{' '}
            <span className="muted">
              {t('notify.reference', { ref: notice.reference || shortReference(notice.referralId) })} ·{' '}
              {dateTime(notice.createdAt, language)}
            </span>
            {!notice.readAt && <span className="badge unread-badge">{t('notify.new')}</span>}
          </li>
        ))}
      </ul>
      <Preferences />
    </section>
  );
}

/** A referral whose short reference has not reached the gateway yet: the last eight hex digits of its id. */
export function shortReference(referralId: string): string {
  return referralId.replaceAll('-', '').slice(-8).toUpperCase();
}

function Preferences(): ReactNode {
  const { t } = useI18n();
  const loaded = useGet(identity.getNotificationPreferences({}));
  const [chosen, setChosen] = useState<Kind[] | undefined>();
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const current =
    chosen ??
    (loaded.data?.preferences?.emailKinds ?? []).filter((k): k is Kind => (kinds as readonly string[]).includes(k));
  const save = async () => {
    setSaved(false);
    setError(undefined);
    try {
      const answer = await identity.setNotificationPreferences({ preferences: { emailKinds: current } });
      setChosen((answer.preferences?.emailKinds ?? []) as Kind[]);
      setSaved(true);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : undefined);
    }
  };
  return (
    <section aria-labelledby="notify-preferences">
      <h2 id="notify-preferences">{t('notify.preferences')}</h2>
      <p className="muted">{t('notify.preferencesHint')}</p>
      {loaded.error && <ErrorNotice error={loaded.error} onRetry={loaded.reload} />}
      {loaded.data && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          <CheckboxGroup
            legend={t('notify.byEmail')}
            options={kinds.map((kind) => ({ value: kind, label: t(`notify.kind.${kind}`) }))}
            selected={current}
            onChange={(next) => {
              setSaved(false);
              setChosen(next);
            }}
          />
          {error && <ErrorNotice error={error} />}
          <button type="submit">{t('notify.save')}</button>
          {saved && <Success>{t('notify.saved')}</Success>}
        </form>
      )}
    </section>
  );
}
