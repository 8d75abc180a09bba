import { useEffect, type ReactNode } from 'react';
import { useGet } from '../api/hooks.ts';
import { identity } from '../api/generated.ts';
import { Link, usePath } from '../app/router.tsx';
import { useI18n } from '../i18n/context.tsx';

/**
 * The header's way to the notices, with how many are unread (ADR 40): asked again every 15
 * seconds, on every move to another screen, and when a notice is read. Those reloads are not
 * input: they do not hold the idle lock off.
 */
export function NotificationBadge(): ReactNode {
  const { t } = useI18n();
  const { path } = usePath();
  const count = useGet(identity.countUnreadNotifications({}));
  const { reload } = count;
  useEffect(() => {
    const timer = setInterval(reload, 15_000);
    window.addEventListener('passage:notifications', reload);
    return () => {
      clearInterval(timer);
      window.removeEventListener('passage:notifications', reload);
    };
  }, [reload]);
  useEffect(reload, [path, reload]);
  const unread = count.data?.unread ?? 0;
  return (
    <Link to="/notifications" className="notify-link" current={path === '/notifications'}>
      <span>{t('notify.link')}</span>
      {unread > 0 && (
        <span className="notify-count" aria-label={t('notify.unreadCount', { count: unread })}>
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </Link>
  );
}
